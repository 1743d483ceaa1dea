/**
 * webgpu row reductions, transposes and column sums of squares.
 *
 * reduceRows runs one workgroup per row. Each thread folds a strided slice of
 * the row, then subgroup operations (when the adapter has `subgroups`) or a
 * shared-memory tree combine the partial results, with f32 accumulation for
 * every dtype.
 */
import type { DType } from '../../dtype.js';
import { LimitError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes, assertRank } from '../../kernels/validate.js';
import type { ReduceOp } from '../../ops.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice, type GpuStorage, type WebGpuDevice } from '../webgpu-device.js';
import { enableDirectives, foldDispatch, packUniforms, storageType } from '../wgsl.js';
import { dispatchLinear, linearMain } from './elementwise.js';

const REDUCE_WORKGROUP = 64;

/** Raises LimitError when a tensor does not fit one storage binding (kernels here bind whole tensors). */
export function assertBindable(device: WebGpuDevice, op: string, tensor: Tensor): void {
  const bytes = tensor.storage<GpuStorage>(op).byteLength;
  if (bytes > device.limits.maxStorageBufferBindingSize) {
    // TODO: split row reductions, transposes and column sums into binding-sized chunks as matmul does.
    throw new LimitError(`${op}: ${tensor.describe()} needs ${bytes} bytes, over maxStorageBufferBindingSize ${device.limits.maxStorageBufferBindingSize}`);
  }
}

interface ReduceShaderParts {
  type: string;
  dtype: DType;
  /** Start value of the fold, the fold of two partial results, the per-element term and the final expression of `total`. */
  identity: string;
  combine: string;
  element: string;
  finish: string;
}

/** Shared head of both reduction shaders: each thread folds a strided slice of its row into `acc`. */
function reduceHead(parts: ReduceShaderParts): string {
  return `struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> input: array<${parts.type}>;
@group(0) @binding(1) var<storage, read_write> output: array<${parts.type}>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> partial: array<f32, ${REDUCE_WORKGROUP}>;

fn combine(a: f32, b: f32) -> f32 { return ${parts.combine}; }`;
}

const STRIDED_FOLD = `let row = wid.x + wid.y * nwg.x;
  // Rows past the end still reach every barrier; they only skip loads and the store.
  let live = row < p.rows;
  var acc = IDENTITY;
  if (live) {
    for (var c = lid; c < p.cols; c = c + ${REDUCE_WORKGROUP}u) {
      let v = f32(input[row * p.cols + c]);
      acc = combine(acc, ELEMENT);
    }
  }`;

function stridedFold(parts: ReduceShaderParts): string {
  return STRIDED_FOLD.replace('IDENTITY', parts.identity).replace('ELEMENT', parts.element);
}

/** Shared-memory tree: log2(workgroup size) barrier levels. */
function treeReduceShader(parts: ReduceShaderParts): string {
  return `${enableDirectives(parts.dtype)}
${reduceHead(parts)}

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  ${stridedFold(parts)}
  partial[lid] = acc;
  workgroupBarrier();
  for (var width = ${REDUCE_WORKGROUP / 2}u; width > 0u; width = width / 2u) {
    if (lid < width) { partial[lid] = combine(partial[lid], partial[lid + width]); }
    workgroupBarrier();
  }
  if (live && lid == 0u) {
    let total = partial[0];
    output[row] = ${parts.type}(${parts.finish});
  }
}`;
}

/**
 * Subgroup reduction, then one workgroup slot per subgroup. The slot is the
 * subgroup's smallest invocation index, so neither the subgroup size nor the
 * way invocations are grouped into subgroups is assumed.
 */
function subgroupReduceShader(parts: ReduceShaderParts): string {
  const subgroupOp = parts.combine.startsWith('max') ? 'subgroupMax' : 'subgroupAdd';
  return `${enableDirectives(parts.dtype)}enable subgroups;
${reduceHead(parts)}

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  partial[lid] = ${parts.identity};
  ${stridedFold(parts)}
  let reduced = ${subgroupOp}(acc);
  let slot = subgroupMin(lid);
  workgroupBarrier();
  if (lid == slot) { partial[slot] = reduced; }
  workgroupBarrier();
  if (live && lid == 0u) {
    var total = ${parts.identity};
    for (var i = 0u; i < ${REDUCE_WORKGROUP}u; i = i + 1u) { total = combine(total, partial[i]); }
    output[row] = ${parts.type}(${parts.finish});
  }
}`;
}

registerKernel<{ op: ReduceOp }>({
  name: 'reduceRows',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const [x] = inputs;
    const op = `reduceRows(${attrs.op})`;
    assertRank(op, x, 1);
    const dtype = assertDTypes(op, inputs, ['f32', 'f16']);
    const gpu = asWebGpuDevice(device);
    assertBindable(gpu, op, x);
    const cols = x.shape[x.rank - 1];
    const rows = cols === 0 ? 0 : x.size / cols;
    const out = gpu.createTensor(x.shape.slice(0, -1), dtype);
    const type = storageType(dtype);
    const identity = attrs.op === 'max' ? '-3.402823e38' : '0.0';
    const combine = attrs.op === 'max' ? 'max(a, b)' : 'a + b';
    const element = attrs.op === 'meanSquare' ? 'v * v' : 'v';
    const finish = attrs.op === 'meanSquare' ? 'total / f32(p.cols)' : 'total';

    const useSubgroups = gpu.features.has('subgroups');
    const code = (): string => (useSubgroups ? subgroupReduceShader : treeReduceShader)({ type, dtype, identity, combine, element, finish });
    if (rows > 0) {
      gpu.dispatch({
        key: `reduceRows:${attrs.op}:${dtype}:${useSubgroups ? 'subgroups' : 'tree'}`,
        code,
        bindings: [x.storage<GpuStorage>(op).buffer, out.storage<GpuStorage>(op).buffer],
        uniforms: packUniforms([rows, cols]),
        workgroups: foldDispatch(rows, gpu.limits.maxComputeWorkgroupsPerDimension),
      });
    }
    return [out];
  },
});

registerKernel({
  name: 'transpose',
  device: 'webgpu',
  run(inputs, _attrs, device) {
    const [x] = inputs;
    assertRank('transpose', x, 2);
    const gpu = asWebGpuDevice(device);
    assertBindable(gpu, 'transpose', x);
    const [rows, cols] = x.shape.slice(-2);
    const out = gpu.createTensor([...x.shape.slice(0, -2), cols, rows], x.dtype);
    const type = storageType(x.dtype);
    const code = (): string => `${enableDirectives(x.dtype)}
struct Params { start: u32, count: u32, rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> input: array<${type}>;
@group(0) @binding(1) var<storage, read_write> output: array<${type}>;
@group(0) @binding(2) var<uniform> p: Params;
${linearMain(`// index enumerates output elements [batch][col][row].
  let plane = p.rows * p.cols;
  let batch = index / plane;
  let within = index % plane;
  let col = within / p.rows;
  let row = within % p.rows;
  output[index] = input[batch * plane + row * p.cols + col];`)}`;
    dispatchLinear(gpu, `transpose:${x.dtype}`, code, [x.storage<GpuStorage>('transpose').buffer, out.storage<GpuStorage>('transpose').buffer], x.size, [rows, cols]);
    return [out];
  },
});

/**
 * Records `out[c] = oldWeight · state[c] + newWeight · Σ_r x[r][c]²` with one
 * thread per column walking down the rows (consecutive threads read
 * consecutive columns). With oldWeight = 0 the state is not read.
 */
export function recordColumnSumSquares(
  device: WebGpuDevice,
  x: Tensor,
  state: GPUBuffer | null,
  out: GPUBuffer,
  rows: number,
  d: number,
  oldWeight: number,
  newWeight: number,
): void {
  const type = storageType(x.dtype);
  const code = (): string => `${enableDirectives(x.dtype)}
struct Params { start: u32, count: u32, rows: u32, d: u32, oldWeight: f32, newWeight: f32 }
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read> state: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${linearMain(`var sum = 0.0;
  for (var r = 0u; r < p.rows; r = r + 1u) {
    let v = f32(x[r * p.d + index]);
    sum = fma(v, v, sum);
  }
  var result = p.newWeight * sum;
  if (p.oldWeight != 0.0) { result = result + p.oldWeight * state[index]; }
  output[index] = result;`)}`;
  // Without a state, X itself fills the unused read-only slot (a writable buffer may not alias another binding).
  dispatchLinear(device, `columnSumSquares:${x.dtype}`, code, [x.storage<GpuStorage>('columnSumSquares').buffer, state ?? x.storage<GpuStorage>('columnSumSquares').buffer, out], d, [
    rows,
    d,
    { f: oldWeight },
    { f: newWeight },
  ]);
}

registerKernel({
  name: 'columnSumSquares',
  device: 'webgpu',
  run(inputs, _attrs, device) {
    const [x] = inputs;
    assertRank('columnSumSquares', x, 1);
    assertDTypes('columnSumSquares', [x], ['f32', 'f16']);
    const gpu = asWebGpuDevice(device);
    assertBindable(gpu, 'columnSumSquares', x);
    const d = x.shape[x.rank - 1];
    const rows = d === 0 ? 0 : x.size / d;
    const out = gpu.createTensor([d], 'f32');
    recordColumnSumSquares(gpu, x, null, out.storage<GpuStorage>('columnSumSquares').buffer, rows, d, 0, 1);
    return [out];
  },
});
