/**
 * WGSL helpers shared by the webgpu kernels: storage types per dtype,
 * uniform packing, and folding of 1-D dispatches that exceed
 * maxComputeWorkgroupsPerDimension.
 */
import type { DType } from '../dtype.js';
import { DTypeError } from '../errors.js';

/** WGSL element type of a storage buffer holding `dtype`. */
export function storageType(dtype: DType): string {
  switch (dtype) {
    case 'f32':
      return 'f32';
    case 'f16':
      return 'f16';
    case 'i32':
      return 'i32';
  }
}

/** `enable f16;` when any dtype is f16, else nothing. */
export function enableDirectives(...dtypes: DType[]): string {
  return dtypes.includes('f16') ? 'enable f16;\n' : '';
}

export function assertFloat(op: string, dtype: DType): void {
  if (dtype === 'i32') throw new DTypeError(`${op}: i32 tensors are not supported by this webgpu kernel; cast to f32`);
}

/** Packs uniform values: integers as u32 and `{ f: x }` as f32, in declaration order, padded to 16 bytes. */
export function packUniforms(values: (number | { f: number })[]): ArrayBuffer {
  const buffer = new ArrayBuffer(Math.max(16, Math.ceil((values.length * 4) / 16) * 16));
  const view = new DataView(buffer);
  values.forEach((value, index) => {
    if (typeof value === 'number') view.setUint32(index * 4, value >>> 0, true);
    else view.setFloat32(index * 4, value.f, true);
  });
  return buffer;
}

/**
 * Splits `workgroups` 1-D workgroups into an [x, y] grid within the per-dimension
 * limit. Shaders recover the linear index as `wid.x + wid.y * nwg.x` (see
 * LINEAR_WORKGROUP) and must skip indices ≥ the real count.
 */
export function foldDispatch(workgroups: number, maxPerDimension: number): [number, number] {
  if (workgroups <= maxPerDimension) return [workgroups, 1];
  const y = Math.ceil(workgroups / maxPerDimension);
  const x = Math.ceil(workgroups / y);
  return [x, y];
}

/** Builtins for a folded 1-D dispatch, declaring `wid` and `nwg`. */
export const LINEAR_WORKGROUP_ARGS = '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32';
export const LINEAR_WORKGROUP = 'let workgroup = wid.x + wid.y * nwg.x;';
