/**
 * Binding windows: sub-ranges of a buffer bound to one shader binding, so
 * that kernels can process tensors larger than maxStorageBufferBindingSize
 * piece by piece. WebGPU requires a storage binding's byte offset to be a
 * multiple of minStorageBufferOffsetAlignment (256 on every adapter Dawn
 * reports), so a window starts at the aligned byte below the first element
 * and the shader adds the remaining element offset itself.
 */
import { bytesPerElement, type DType } from '../../dtype.js';
import type { BufferBinding, WebGpuDevice } from '../webgpu-device.js';

export const STORAGE_OFFSET_ALIGNMENT = 256;

/** A binding plus the element index, inside it, of the first requested element. */
export interface Window {
  binding: BufferBinding;
  offset: number;
}

/** Builds a binding that covers elements [start, end) of a buffer. */
export function windowOf(buffer: GPUBuffer, dtype: DType, start: number, end: number): Window {
  const bytes = bytesPerElement(dtype);
  const byteStart = start * bytes;
  const alignedStart = Math.floor(byteStart / STORAGE_OFFSET_ALIGNMENT) * STORAGE_OFFSET_ALIGNMENT;
  const byteEnd = Math.min(buffer.size, Math.ceil((Math.max(end, start + 1) * bytes) / 4) * 4);
  return { binding: { buffer, offset: alignedStart, size: byteEnd - alignedStart }, offset: (byteStart - alignedStart) / bytes };
}

/**
 * Elements of `dtype` that any window may span: the binding limit less the
 * alignment slack in front of the first element.
 */
export function windowCapacity(device: WebGpuDevice, dtype: DType): number {
  return Math.floor((device.limits.maxStorageBufferBindingSize - STORAGE_OFFSET_ALIGNMENT) / bytesPerElement(dtype));
}

/** Elements spanned by a row-major region of `rows` rows × `cols` columns with leading dimension `ld`. */
export function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}
