/**
 * webgpu row reductions, transposes and column sums of squares. Each of them
 * also takes tensors larger than maxStorageBufferBindingSize, processed in
 * binding-sized windows (windows.ts).
 *
 * reduceRows runs one workgroup per row. Each thread folds a strided slice of
 * the row, then subgroup operations (when the adapter has `subgroups`) or a
 * shared-memory tree combine the partial results, with f32 accumulation for
 * every dtype.
 */
import type { DType } from '../../dtype.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes, assertRank } from '../../kernels/validate.js';
import type { ReduceOp } from '../../ops.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice, type GpuStorage, type WebGpuDevice } from '../webgpu-device.js';
import { enableDirectives, foldDispatch, packUniforms, storageType } from '../wgsl.js';
import { dispatchLinear, linearMain } from './elementwise.js';
import { span, windowCapacity, windowOf } from './windows.js';

const REDUCE_WORKGROUP = 64;

interface ReduceShaderParts {
  /** Storage types of the input and output arrays. */
  inType: string;
  outType: string;
  dtypes: DType[];
  /** Start value of the fold, the fold of two partial results, the per-element term and the final expression of `total`. */
  identity: string;
  combine: string;
  element: string;
  finish: string;
}

/**
 * Shared head of both reduction shaders. Row r of a dispatch reads `cols`
 * elements from input[inOffset + r·stride] and writes output[outOffset + r],
 * so a dispatch can cover a window of rows or one segment of a long row.
 */
function reduceHead(parts: ReduceShaderParts): string {
  return `struct Params { rows: u32, cols: u32, stride: u32, inOffset: u32, outOffset: u32, divisor: f32 }
@group(0) @binding(0) var<storage, read> input: array<${parts.inType}>;
@group(0) @binding(1) var<storage, read_write> output: array<${parts.outType}>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> partial: array<f32, ${REDUCE_WORKGROUP}>;

fn combine(a: f32, b: f32) -> f32 { return ${parts.combine}; }`;
}

const STRIDED_FOLD = `let row = wid.x + wid.y * nwg.x;
  // Rows past the end still reach every barrier; they only skip loads and the store.
  let live = row < p.rows;
  var acc = IDENTITY;
  if (live) {
    let base = p.inOffset + row * p.stride;
    for (var c = lid; c < p.cols; c = c + ${REDUCE_WORKGROUP}u) {
      let v = f32(input[base + c]);
      acc = combine(acc, ELEMENT);
    }
  }`;

function stridedFold(parts: ReduceShaderParts): string {
  return STRIDED_FOLD.replace('IDENTITY', parts.identity).replace('ELEMENT', parts.element);
}

/** Shared-memory tree: log2(workgroup size) barrier levels. */
function treeReduceShader(parts: ReduceShaderParts): string {
  return `${enableDirectives(...parts.dtypes)}
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
    output[p.outOffset + row] = ${parts.outType}(${parts.finish});
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
  return `${enableDirectives(...parts.dtypes)}enable subgroups;
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
    output[p.outOffset + row] = ${parts.outType}(${parts.finish});
  }
}`;
}

/** One reduction pass: what the op folds, and whether this pass reads raw elements or partial results. */
interface ReducePass {
  op: ReduceOp;
  /** 'elements' applies the op's per-element term (v² for meanSquare); 'partials' combines results of an earlier pass. */
  input: 'elements' | 'partials';
  /** 'final' applies the op's finish (division for meanSquare); 'partial' keeps the raw fold. */
  output: 'final' | 'partial';
}

function passParts(pass: ReducePass, inDType: DType, outDType: DType): ReduceShaderParts {
  const isMax = pass.op === 'max';
  return {
    inType: storageType(inDType),
    outType: storageType(outDType),
    dtypes: [inDType, outDType],
    identity: isMax ? '-3.402823e38' : '0.0',
    combine: isMax ? 'max(a, b)' : 'a + b',
    element: pass.op === 'meanSquare' && pass.input === 'elements' ? 'v * v' : 'v',
    finish: pass.op === 'meanSquare' && pass.output === 'final' ? 'total / p.divisor' : 'total',
  };
}

interface ReduceTarget {
  buffer: GPUBuffer;
  dtype: DType;
}

/**
 * Records one pass over `rows` rows of `cols` elements (row stride `cols`)
 * into `rows` outputs. Rows are grouped into dispatches whose input and
 * output windows each fit one binding; a row longer than a binding is
 * first folded per segment into f32 partials, which a second pass combines.
 */
function recordReducePass(device: WebGpuDevice, input: ReduceTarget, output: ReduceTarget, rows: number, cols: number, pass: ReducePass, divisor: number): void {
  if (rows === 0) return;
  const inCapacity = windowCapacity(device, input.dtype);
  if (cols > inCapacity) {
    recordLongRows(device, input, output, rows, cols, pass, divisor);
    return;
  }

  const parts = passParts(pass, input.dtype, output.dtype);
  const useSubgroups = device.features.has('subgroups');
  const key = `reduceRows:${pass.op}:${pass.input}:${pass.output}:${input.dtype}>${output.dtype}:${useSubgroups ? 'subgroups' : 'tree'}`;
  const code = (): string => (useSubgroups ? subgroupReduceShader : treeReduceShader)(parts);
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  const rowsPerDispatch = Math.max(1, Math.min(rows, Math.floor(inCapacity / cols), windowCapacity(device, output.dtype), maxGroups * maxGroups));
  for (let r0 = 0; r0 < rows; r0 += rowsPerDispatch) {
    const count = Math.min(rowsPerDispatch, rows - r0);
    const inWindow = windowOf(input.buffer, input.dtype, r0 * cols, (r0 + count) * cols);
    const outWindow = windowOf(output.buffer, output.dtype, r0, r0 + count);
    device.dispatch({
      key,
      code,
      bindings: [inWindow.binding, outWindow.binding],
      uniforms: packUniforms([count, cols, cols, inWindow.offset, outWindow.offset, { f: divisor }]),
      workgroups: foldDispatch(count, device.limits.maxComputeWorkgroupsPerDimension),
    });
  }
}

/** Reduces rows longer than one binding: per-segment f32 partials, then one pass over the partials. */
function recordLongRows(device: WebGpuDevice, input: ReduceTarget, output: ReduceTarget, rows: number, cols: number, pass: ReducePass, divisor: number): void {
  const segmentCols = Math.floor(windowCapacity(device, input.dtype) / REDUCE_WORKGROUP) * REDUCE_WORKGROUP;
  const segments = Math.ceil(cols / segmentCols);
  const partials = device.createTensor([rows * segments], 'f32');
  const partialTarget = { buffer: partials.storage<GpuStorage>('reduceRows').buffer, dtype: 'f32' as const };
  const parts = passParts({ ...pass, output: 'partial' }, input.dtype, 'f32');
  const useSubgroups = device.features.has('subgroups');
  const key = `reduceRows:${pass.op}:${pass.input}:partial:${input.dtype}>f32:${useSubgroups ? 'subgroups' : 'tree'}`;
  const code = (): string => (useSubgroups ? subgroupReduceShader : treeReduceShader)(parts);

  // One dispatch per segment of each row, because a window cannot reach past one segment.
  for (let row = 0; row < rows; row++) {
    for (let segment = 0; segment < segments; segment++) {
      const start = row * cols + segment * segmentCols;
      const count = Math.min(segmentCols, cols - segment * segmentCols);
      const inWindow = windowOf(input.buffer, input.dtype, start, start + count);
      const outIndex = row * segments + segment;
      const outWindow = windowOf(partialTarget.buffer, 'f32', outIndex, outIndex + 1);
      device.dispatch({
        key,
        code,
        bindings: [inWindow.binding, outWindow.binding],
        uniforms: packUniforms([1, count, count, inWindow.offset, outWindow.offset, { f: divisor }]),
        workgroups: [1],
      });
    }
  }

  recordReducePass(device, partialTarget, output, rows, segments, { ...pass, input: 'partials' }, divisor);
  partials.dispose();
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
    const cols = x.shape[x.rank - 1];
    const rows = cols === 0 ? 0 : x.size / cols;
    const out = gpu.createTensor(x.shape.slice(0, -1), dtype);
    recordReducePass(
      gpu,
      { buffer: x.storage<GpuStorage>(op).buffer, dtype },
      { buffer: out.storage<GpuStorage>(op).buffer, dtype },
      rows,
      cols,
      { op: attrs.op, input: 'elements', output: 'final' },
      cols,
    );
    return [out];
  },
});

/**
 * Records out = transpose(x) over the last two axes. Whole planes go into one
 * dispatch while they fit a binding. A plane larger than a binding is cut
 * into tiles whose input rows and output rows each fit a window.
 */
export function recordTranspose(device: WebGpuDevice, x: Tensor, out: Tensor, batch: number, rows: number, cols: number): void {
  const plane = rows * cols;
  if (plane === 0) return;
  const type = storageType(x.dtype);
  const code = (): string => `${enableDirectives(x.dtype)}
struct Params { start: u32, count: u32, tileRows: u32, tileCols: u32, ldIn: u32, ldOut: u32, plane: u32, inOffset: u32, outOffset: u32 }
@group(0) @binding(0) var<storage, read> input: array<${type}>;
@group(0) @binding(1) var<storage, read_write> output: array<${type}>;
@group(0) @binding(2) var<uniform> p: Params;
${linearMain(`// index enumerates the tile's output elements [plane][col][row].
  let tile = p.tileRows * p.tileCols;
  let batch = index / tile;
  let within = index % tile;
  let col = within / p.tileRows;
  let row = within % p.tileRows;
  output[p.outOffset + batch * p.plane + col * p.ldOut + row] = input[p.inOffset + batch * p.plane + row * p.ldIn + col];`)}`;
  const key = `transpose:${x.dtype}`;
  const inBuffer = x.storage<GpuStorage>('transpose').buffer;
  const outBuffer = out.storage<GpuStorage>('transpose').buffer;
  const capacity = windowCapacity(device, x.dtype);

  const dispatchTile = (start: number, planes: number, r0: number, c0: number, tileRows: number, tileCols: number): void => {
    const inStart = start + r0 * cols + c0;
    const outStart = start + c0 * rows + r0;
    const inWindow = windowOf(inBuffer, x.dtype, inStart, inStart + (planes - 1) * plane + span(tileRows, tileCols, cols));
    const outWindow = windowOf(outBuffer, x.dtype, outStart, outStart + (planes - 1) * plane + span(tileCols, tileRows, rows));
    dispatchLinear(device, key, code, [inWindow.binding, outWindow.binding], planes * tileRows * tileCols, [
      tileRows,
      tileCols,
      cols,
      rows,
      plane,
      inWindow.offset,
      outWindow.offset,
    ]);
  };

  if (plane <= capacity) {
    const planesPerDispatch = Math.floor(capacity / plane);
    for (let p0 = 0; p0 < batch; p0 += planesPerDispatch) dispatchTile(p0 * plane, Math.min(planesPerDispatch, batch - p0), 0, 0, rows, cols);
    return;
  }

  // An input tile spans (tileRows - 1)·cols + tileCols elements and an output tile (tileCols - 1)·rows + tileRows.
  const tileRows = Math.max(1, Math.min(rows, Math.floor((capacity - cols) / cols) + 1));
  const tileCols = Math.max(1, Math.min(cols, Math.floor((capacity - tileRows) / rows) + 1));
  for (let p0 = 0; p0 < batch; p0++) {
    for (let r0 = 0; r0 < rows; r0 += tileRows) {
      for (let c0 = 0; c0 < cols; c0 += tileCols) dispatchTile(p0 * plane, 1, r0, c0, Math.min(tileRows, rows - r0), Math.min(tileCols, cols - c0));
    }
  }
}

registerKernel({
  name: 'transpose',
  device: 'webgpu',
  run(inputs, _attrs, device) {
    const [x] = inputs;
    assertRank('transpose', x, 2);
    const gpu = asWebGpuDevice(device);
    const [rows, cols] = x.shape.slice(-2);
    const out = gpu.createTensor([...x.shape.slice(0, -2), cols, rows], x.dtype);
    recordTranspose(gpu, x, out, rows * cols === 0 ? 0 : x.size / (rows * cols), rows, cols);
    return [out];
  },
});

/**
 * Records `out[c] = oldWeight · state[c] + newWeight · Σ_r x[r][c]²` with one
 * thread per column walking down the rows (consecutive threads read
 * consecutive columns). With oldWeight = 0 the state is not read. An X larger
 * than one binding is processed in blocks of rows and columns, and row blocks
 * after the first add to the output.
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
struct Params { start: u32, count: u32, rows: u32, d: u32, oldWeight: f32, newWeight: f32, xOffset: u32, stateOffset: u32, outOffset: u32, accumulate: u32 }
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read> state: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${linearMain(`var sum = 0.0;
  for (var r = 0u; r < p.rows; r = r + 1u) {
    let v = f32(x[p.xOffset + r * p.d + index]);
    sum = fma(v, v, sum);
  }
  var result = p.newWeight * sum;
  if (p.oldWeight != 0.0) { result = result + p.oldWeight * state[p.stateOffset + index]; }
  if (p.accumulate != 0u) { result = result + output[p.outOffset + index]; }
  output[p.outOffset + index] = result;`)}`;
  if (d === 0) return;
  const xBuffer = x.storage<GpuStorage>('columnSumSquares').buffer;
  const capacity = windowCapacity(device, x.dtype);
  const colsPerBlock = Math.min(d, windowCapacity(device, 'f32'), capacity);
  const rowsPerBlock = Math.max(1, Math.min(rows, Math.floor((capacity - colsPerBlock) / d) + 1));

  for (let c0 = 0; c0 < d; c0 += colsPerBlock) {
    const cols = Math.min(colsPerBlock, d - c0);
    const outWindow = windowOf(out, 'f32', c0, c0 + cols);
    // Without a state, X itself fills the unused read-only slot (a writable buffer may not alias another binding).
    const stateWindow = state ? windowOf(state, 'f32', c0, c0 + cols) : windowOf(xBuffer, x.dtype, 0, 1);
    // The first row block also runs when there are no rows, so that the output is still written.
    for (let r0 = 0; r0 === 0 || r0 < rows; r0 += rowsPerBlock) {
      const blockRows = Math.min(rowsPerBlock, rows - r0);
      const first = r0 === 0;
      const xStart = r0 * d + c0;
      const xWindow = windowOf(xBuffer, x.dtype, xStart, xStart + span(Math.max(1, blockRows), cols, d));
      dispatchLinear(device, `columnSumSquares:${x.dtype}`, code, [xWindow.binding, stateWindow.binding, outWindow.binding], cols, [
        blockRows,
        d,
        { f: first ? oldWeight : 0 },
        { f: newWeight },
        xWindow.offset,
        stateWindow.offset,
        outWindow.offset,
        first ? 0 : 1,
      ]);
    }
  }
}

registerKernel({
  name: 'columnSumSquares',
  device: 'webgpu',
  run(inputs, _attrs, device) {
    const [x] = inputs;
    assertRank('columnSumSquares', x, 1);
    assertDTypes('columnSumSquares', [x], ['f32', 'f16']);
    const gpu = asWebGpuDevice(device);
    const d = x.shape[x.rank - 1];
    const rows = d === 0 ? 0 : x.size / d;
    const out = gpu.createTensor([d], 'f32');
    recordColumnSumSquares(gpu, x, null, out.storage<GpuStorage>('columnSumSquares').buffer, rows, d, 0, 1);
    return [out];
  },
});
