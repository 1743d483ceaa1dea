/**
 * webgpu elementwise kernels: broadcasting binary ops, unary ops, affine,
 * cast and reshape. One thread per output element, 1-D dispatches folded
 * past maxComputeWorkgroupsPerDimension, f32 arithmetic for f16 storage.
 * Outputs larger than one binding are processed in element-range chunks.
 */
import { bytesPerElement, type DType } from '../../dtype.js';
import { LimitError, ShapeError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes } from '../../kernels/validate.js';
import type { BinaryOp, UnaryOp } from '../../ops.js';
import { broadcastShapes, broadcastStrides, formatShape, shapeSize, shapesEqual } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice, type BufferBinding, type GpuStorage, type WebGpuDevice } from '../webgpu-device.js';
import { enableDirectives, foldDispatch, LINEAR_WORKGROUP, LINEAR_WORKGROUP_ARGS, packUniforms, storageType } from '../wgsl.js';

const WORKGROUP = 256;
const MAX_RANK = 8;
const ALIGNMENT = 256;

const BINARY_WGSL: Record<BinaryOp, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  max: 'max(x, y)',
  min: 'min(x, y)',
};

const UNARY_WGSL: Record<UnaryOp, string> = {
  neg: '-x',
  abs: 'abs(x)',
  exp: 'exp(x)',
  log: 'log(x)',
  sqrt: 'sqrt(x)',
  rsqrt: 'inverseSqrt(x)',
  square: 'x * x',
  reciprocal: '1.0 / x',
  relu: 'max(x, 0.0)',
  sigmoid: '1.0 / (1.0 + exp(-x))',
  // tanh through exp(-2|x|), which cannot overflow for large |x|.
  tanh: 'sign(x) * (1.0 - exp(-2.0 * abs(x))) / (1.0 + exp(-2.0 * abs(x)))',
  silu: 'x / (1.0 + exp(-x))',
};

/** Compute type used inside shaders: f32 for float storage, i32 for i32. */
function computeType(dtype: DType): string {
  return dtype === 'i32' ? 'i32' : 'f32';
}

/**
 * Records `count` threads of a 1-D kernel over [start, start + count) output
 * elements. The shader receives `start` and `count` as its first uniforms.
 */
export function dispatchLinear(
  device: WebGpuDevice,
  key: string,
  code: () => string,
  bindings: (GPUBuffer | BufferBinding)[],
  count: number,
  extraUniforms: (number | { f: number })[] = [],
  start = 0,
): void {
  if (count === 0) return;
  const workgroups = Math.ceil(count / WORKGROUP);
  device.dispatch({
    key,
    code,
    bindings,
    uniforms: packUniforms([start, count, ...extraUniforms]),
    workgroups: foldDispatch(workgroups, device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** Common head of 1-D kernels: `index` is the element handled by this thread. */
export function linearMain(body: string): string {
  return `@compute @workgroup_size(${WORKGROUP})
fn main(${LINEAR_WORKGROUP_ARGS}) {
  ${LINEAR_WORKGROUP}
  let local = workgroup * ${WORKGROUP}u + lid;
  if (local >= p.count) { return; }
  let index = p.start + local;
  ${body}
}`;
}

/** Element ranges [start, end) whose byte size fits one binding. */
function elementChunks(device: WebGpuDevice, size: number, dtype: DType): [number, number][] {
  const bytes = bytesPerElement(dtype);
  const limit = device.limits.maxStorageBufferBindingSize - ALIGNMENT;
  if (size * bytes <= device.limits.maxStorageBufferBindingSize) return [[0, size]];
  const step = Math.floor(limit / bytes / 64) * 64;
  const chunks: [number, number][] = [];
  for (let start = 0; start < size; start += step) chunks.push([start, Math.min(size, start + step)]);
  return chunks;
}

/** Builds a binding covering elements [start, end) and returns the element offset of `start` inside it. */
function windowOf(storage: GpuStorage, dtype: DType, start: number, end: number): { binding: BufferBinding; offset: number } {
  const bytes = bytesPerElement(dtype);
  const alignedStart = Math.floor((start * bytes) / ALIGNMENT) * ALIGNMENT;
  const byteEnd = Math.min(storage.buffer.size, Math.ceil((end * bytes) / 4) * 4);
  return { binding: { buffer: storage.buffer, offset: alignedStart, size: Math.max(4, byteEnd - alignedStart) }, offset: (start * bytes - alignedStart) / bytes };
}

/** Runs a same-shape map from `inputs` to a new tensor, chunked when it exceeds one binding. */
function mapKernel(
  device: WebGpuDevice,
  op: string,
  inputs: readonly Tensor[],
  outDType: DType,
  key: string,
  expression: string,
  extraUniforms: { name: string; value: number | { f: number }; type: string }[] = [],
): Tensor {
  const x = inputs[0];
  const out = device.createTensor(x.shape, outDType);
  const inType = storageType(x.dtype);
  const outType = storageType(outDType);
  const code = (): string => `${enableDirectives(x.dtype, outDType)}
struct Params { start: u32, count: u32, inOffset: u32, outOffset: u32, ${extraUniforms.map((u) => `${u.name}: ${u.type},`).join(' ')} }
@group(0) @binding(0) var<storage, read> input: array<${inType}>;
@group(0) @binding(1) var<storage, read_write> output: array<${outType}>;
@group(0) @binding(2) var<uniform> p: Params;
${linearMain(`let x = ${computeType(x.dtype)}(input[p.inOffset + local]);
  output[p.outOffset + local] = ${outType}(${expression});`)}`;

  for (const [start, end] of elementChunks(device, x.size, x.dtype === 'f16' || outDType === 'f16' ? 'f32' : x.dtype)) {
    const inWindow = windowOf(x.storage<GpuStorage>(op), x.dtype, start, end);
    const outWindow = windowOf(out.storage<GpuStorage>(op), outDType, start, end);
    dispatchLinear(device, key, code, [inWindow.binding, outWindow.binding], end - start, [inWindow.offset, outWindow.offset, ...extraUniforms.map((u) => u.value)], start);
  }
  return out;
}

registerKernel<{ op: UnaryOp }>({
  name: 'unary',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const dtype = assertDTypes(attrs.op, inputs, ['f32', 'f16']);
    return [mapKernel(asWebGpuDevice(device), attrs.op, inputs, dtype, `unary:${attrs.op}:${dtype}`, UNARY_WGSL[attrs.op])];
  },
});

registerKernel<{ scale: number; offset: number }>({
  name: 'affine',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const dtype = assertDTypes('affine', inputs, ['f32', 'f16']);
    return [
      mapKernel(asWebGpuDevice(device), 'affine', inputs, dtype, `affine:${dtype}`, 'x * p.scale + p.shift', [
        { name: 'scale', value: { f: attrs.scale }, type: 'f32' },
        { name: 'shift', value: { f: attrs.offset }, type: 'f32' },
      ]),
    ];
  },
});

registerKernel<{ dtype: DType }>({
  name: 'cast',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const [x] = inputs;
    const gpu = asWebGpuDevice(device);
    if (attrs.dtype === 'f16' && !gpu.hasF16) {
      throw new ShapeError(`cast: the adapter has no 'shader-f16' feature, so ${x.describe()} cannot be cast to f16`);
    }
    if (attrs.dtype === x.dtype) return [copyTensor(gpu, x, x.shape, 'cast')];
    // i32 ← float truncates toward zero, as WGSL's conversion does.
    return [mapKernel(gpu, 'cast', inputs, attrs.dtype, `cast:${x.dtype}:${attrs.dtype}`, 'x')];
  },
});

function copyTensor(device: WebGpuDevice, x: Tensor, shape: readonly number[], op: string): Tensor {
  const out = device.createTensor(shape, x.dtype);
  const source = x.storage<GpuStorage>(op);
  const size = Math.ceil(source.byteLength / 4) * 4;
  if (size > 0) device.copyBuffer(source.buffer, 0, out.storage<GpuStorage>(op).buffer, 0, size);
  return out;
}

registerKernel<{ shape: number[] }>({
  name: 'reshape',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const [x] = inputs;
    if (shapeSize(attrs.shape) !== x.size) {
      throw new ShapeError(`reshape: cannot reshape ${x.describe()} to ${formatShape(attrs.shape)} (${shapeSize(attrs.shape)} elements)`);
    }
    return [copyTensor(asWebGpuDevice(device), x, attrs.shape, 'reshape')];
  },
});

registerKernel<{ op: BinaryOp }>({
  name: 'binary',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const [a, b] = inputs;
    const op = attrs.op;
    const dtype = assertDTypes(op, inputs, ['f32', 'f16', 'i32']);
    const shape = broadcastShapes(a.shape, b.shape, op);
    if (shape.length > MAX_RANK) {
      throw new ShapeError(`${op}: rank ${shape.length} exceeds the webgpu limit of ${MAX_RANK} for broadcasting (${a.describe()}, ${b.describe()})`);
    }
    const gpu = asWebGpuDevice(device);
    const out = gpu.createTensor(shape, dtype);
    const size = shapeSize(shape);
    const sameShape = shapesEqual(a.shape, shape) && shapesEqual(b.shape, shape);
    const type = storageType(dtype);
    const compute = computeType(dtype);

    const stridesA = broadcastStrides(a.shape, shape);
    const stridesB = broadcastStrides(b.shape, shape);
    const pad = (values: number[]): number[] => [...new Array<number>(MAX_RANK - values.length).fill(0), ...values];
    const paddedShape = [...new Array<number>(MAX_RANK - shape.length).fill(1), ...shape];

    const code = (): string => `${enableDirectives(dtype)}
struct Params {
  start: u32, count: u32, aOffset: u32, bOffset: u32, outOffset: u32, aShift: u32, bShift: u32, pad0: u32,
  shape: array<vec4<u32>, 2>, stridesA: array<vec4<u32>, 2>, stridesB: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read> inA: array<${type}>;
@group(0) @binding(1) var<storage, read> inB: array<${type}>;
@group(0) @binding(2) var<storage, read_write> output: array<${type}>;
@group(0) @binding(3) var<uniform> p: Params;
${linearMain(
  sameShape
    ? `let x = ${compute}(inA[p.aOffset + local]);
  let y = ${compute}(inB[p.bOffset + local]);
  output[p.outOffset + local] = ${type}(${BINARY_WGSL[op]});`
    : `// Walk the output coordinates from the last dimension, accumulating each input's offset.
  var rest = index;
  var offsetA = 0u;
  var offsetB = 0u;
  for (var d = ${MAX_RANK - 1}; d >= 0; d = d - 1) {
    let dim = p.shape[d / 4][d % 4];
    let coordinate = rest % dim;
    rest = rest / dim;
    offsetA = offsetA + coordinate * p.stridesA[d / 4][d % 4];
    offsetB = offsetB + coordinate * p.stridesB[d / 4][d % 4];
  }
  let x = ${compute}(inA[p.aOffset + offsetA - p.aShift]);
  let y = ${compute}(inB[p.bOffset + offsetB - p.bShift]);
  output[p.outOffset + local] = ${type}(${BINARY_WGSL[op]});`,
)}`;

    const key = `binary:${op}:${dtype}:${sameShape ? 'same' : 'broadcast'}`;
    const limit = gpu.limits.maxStorageBufferBindingSize;
    for (const [start, end] of elementChunks(gpu, size, dtype)) {
      const outWindow = windowOf(out.storage<GpuStorage>(op), dtype, start, end);
      // A full-shape input is bound as a window of this chunk; `shift` converts global element offsets into it.
      const bindInput = (input: Tensor): { binding: BufferBinding; offset: number; shift: number } => {
        const storage = input.storage<GpuStorage>(op);
        if (shapesEqual(input.shape, shape)) return { ...windowOf(storage, dtype, start, end), shift: start };
        if (storage.byteLength > limit) {
          throw new LimitError(`${op}: broadcast input ${input.describe()} exceeds maxStorageBufferBindingSize ${limit}; split it first`);
        }
        return { binding: { buffer: storage.buffer }, offset: 0, shift: 0 };
      };
      const aWindow = bindInput(a);
      const bWindow = bindInput(b);
      dispatchLinear(gpu, key, code, [aWindow.binding, bWindow.binding, outWindow.binding], end - start, [
        aWindow.offset, bWindow.offset, outWindow.offset, aWindow.shift, bWindow.shift, 0,
        ...paddedShape,
        ...pad(stridesA), ...pad(stridesB),
      ], start);
    }
    return [out];
  },
});
