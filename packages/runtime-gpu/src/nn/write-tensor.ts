/**
 * In-place writes of host values into an existing tensor. Optimizers and
 * caches keep tensors that other objects hold references to (AdamW's moment
 * buffers, for one), so restoring them from a checkpoint must overwrite the
 * values rather than swap in a new tensor.
 */
import type { CpuStorage } from '../cpu/cpu-device.js';
import { toStorage } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { asWebGpuDevice, type GpuStorage } from '../webgpu/webgpu-device.js';

/**
 * Overwrites every value of `tensor` with `values` (row-major, one per
 * element; f16 tensors take floats and round them). Work queued before the
 * call reads the old values. Await the returned promise before queuing work
 * that must read the new values. Raises ShapeError on a count mismatch, DTypeError for non-integer
 * values in an i32 tensor, and DisposedError for a disposed tensor.
 */
export async function writeTensor(tensor: Tensor, values: ArrayLike<number>): Promise<void> {
  const op = 'writeTensor';
  tensor.storage(op);
  if (values.length !== tensor.size) {
    throw new ShapeError(`${op}: ${tensor.describe()} has ${tensor.size} elements, got ${values.length} values; pass one value per element`);
  }
  if (tensor.dtype === 'i32') {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isInteger(values[i])) throw new DTypeError(`${op}: ${tensor.describe()} takes integers, got ${values[i]} at index ${i}`);
    }
  }
  const storage = toStorage(values, tensor.dtype);

  if (tensor.device.kind === 'cpu') {
    // Kernels queued earlier may still read this array, so wait for them before overwriting it.
    await tensor.device.sync();
    const cpu = tensor.storage<CpuStorage>(op);
    const data = cpu.data ?? (await cpu.pending);
    data.set(storage);
    return;
  }

  // queue.writeBuffer would run before the dispatches still being recorded, so the values go to a
  // staging tensor first and a recorded copy keeps the order of the command stream.
  const device = asWebGpuDevice(tensor.device);
  const staging = device.tensor(storage, tensor.shape, tensor.dtype);
  const target = tensor.storage<GpuStorage>(op);
  const source = staging.storage<GpuStorage>(op);
  device.copyBuffer(source.buffer, 0, target.buffer, 0, Math.ceil(target.byteLength / 4) * 4);
  staging.dispose();
}
