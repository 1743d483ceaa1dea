/**
 * Thin layer over WebGpuDevice.dispatch for the nn kernels: declares storage
 * bindings and a uniform struct from one field list, packs the uniforms, and
 * folds large dispatches into two dimensions.
 *
 * Binding order in every nn shader: inputs (read-only), then outputs
 * (read_write), then the uniform struct `params`.
 */
import { DTypeError, LimitError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice, type GpuStorage, type WebGpuDevice } from '../../webgpu/webgpu-device.js';

export type ScalarType = 'u32' | 'i32' | 'f32';

/** One uniform field: WGSL type, name, value. */
export type UniformField = [ScalarType, string, number];

export interface BufferSpec {
  name: string;
  type: 'f32' | 'i32';
}

/** Workgroup size of the 1-D nn kernels. */
export const WORKGROUP = 64;

export function uniformStruct(fields: readonly UniformField[]): string {
  const lines = fields.map(([type, name]) => `  ${name}: ${type},`);
  // Uniform structs are sized in 16-byte steps; explicit padding keeps host and shader layouts equal.
  for (let i = fields.length; i % 4 !== 0; i++) lines.push(`  pad${i}: u32,`);
  return `struct Params {\n${lines.join('\n')}\n}`;
}

export function packUniforms(fields: readonly UniformField[]): ArrayBuffer {
  const buffer = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const view = new DataView(buffer);
  fields.forEach(([type, , value], i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else view.setUint32(i * 4, value, true);
  });
  return buffer;
}

/** WGSL declarations for the bindings and the uniform struct. */
export function declarations(inputs: readonly BufferSpec[], outputs: readonly BufferSpec[], fields: readonly UniformField[]): string {
  const lines: string[] = [uniformStruct(fields)];
  let binding = 0;
  for (const input of inputs) lines.push(`@group(0) @binding(${binding++}) var<storage, read> ${input.name}: array<${input.type}>;`);
  for (const output of outputs) lines.push(`@group(0) @binding(${binding++}) var<storage, read_write> ${output.name}: array<${output.type}>;`);
  lines.push(`@group(0) @binding(${binding}) var<uniform> params: Params;`);
  return lines.join('\n');
}

/**
 * Entry point header for a kernel launched over `count` linear work items by
 * `launch`; binds `index` to the item and returns early past the end.
 */
export function linearEntry(countExpression: string): string {
  return `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let index = (wid.y * groups.x + wid.x) * ${WORKGROUP}u + lid.x;
  if (index >= ${countExpression}) { return; }`;
}

/**
 * Entry point header for a kernel with one workgroup per row; binds `row` and
 * `lane` (0..WORKGROUP-1). No early return, because rows use barriers.
 */
export function rowEntry(): string {
  return `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * groups.x + wid.x;
  let lane = lid.x;`;
}

/** Splits `count` workgroups into [x, y] so neither exceeds the per-dimension limit. */
export function foldWorkgroups(device: WebGpuDevice, count: number): [number, number] {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

export interface LaunchRequest {
  key: string;
  code: () => string;
  /** Tensors bound in order: inputs, then outputs. */
  buffers: readonly Tensor[];
  fields: readonly UniformField[];
  /** Number of workgroups (folded into 2-D when large). */
  workgroups: number;
}

export function launch(device: WebGpuDevice, request: LaunchRequest): void {
  const limit = device.limits.maxStorageBufferBindingSize;
  for (const tensor of request.buffers) {
    const bytes = tensor.size * (tensor.dtype === 'f16' ? 2 : 4);
    if (bytes > limit) {
      throw new LimitError(
        `${request.key}: ${tensor.describe()} needs ${bytes} bytes in one binding, over the adapter's maxStorageBufferBindingSize of ${limit}; process fewer rows per call`,
      );
    }
  }
  device.dispatch({
    key: request.key,
    code: request.code,
    bindings: request.buffers.map((tensor) => tensor.storage<GpuStorage>(request.key).buffer),
    uniforms: packUniforms(request.fields),
    workgroups: foldWorkgroups(device, request.workgroups),
  });
}

export function gpuOf(tensor: Tensor): WebGpuDevice {
  return asWebGpuDevice(tensor.device);
}

export function requireF32(op: string, tensors: readonly Tensor[]): void {
  for (const tensor of tensors) {
    if (tensor.dtype === 'f16') throw new DTypeError(`${op}: the webgpu nn kernels take f32 tensors, got ${tensor.describe()}; cast it first`);
  }
}

/** Numbers of workgroups for `items` work items at WORKGROUP per group. */
export function groupsFor(items: number): number {
  return Math.ceil(items / WORKGROUP);
}

/**
 * Returns WGSL for a shared-memory tree sum of each workgroup array in
 * `arrays` over `lanes` lanes, leaving each total in entry 0. The arrays share
 * one loop, so summing two of them costs no extra barriers.
 */
export function treeSum(arrays: readonly string[], lanes = WORKGROUP): string {
  const adds = arrays.map((name) => `${name}[lane] = ${name}[lane] + ${name}[lane + stride];`).join(' ');
  return `
  for (var stride = ${lanes / 2}u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (lane < stride) { ${adds} }
  }
  workgroupBarrier();`;
}

/** Tree sum over the WORKGROUP lanes of `partials`, leaving the total in partials[0]. */
export const TREE_SUM = treeSum(['partials']);
