/**
 * webgpu linear algebra in f32: blocked right-looking Cholesky, the inverse
 * from a Cholesky factor, and SparseGPT's inverse-Hessian factor.
 *
 * Cholesky works on panels of BLOCK columns: one workgroup factors the
 * diagonal block in workgroup memory, one thread per row solves the panel
 * below it, and the matmul kernel subtracts panel·panelᵀ from the lower
 * triangle of the trailing matrix. A pivot that is not positive is written to
 * a status buffer (index, value), which the op reads to raise
 * NotPositiveDefiniteError.
 *
 * Every step binds windows of the matrix (windows.ts) instead of the whole
 * buffer, so matrices larger than maxStorageBufferBindingSize work as long as
 * BLOCK rows of one fit a binding.
 */
import { LimitError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertCholeskyInput } from '../../kernels/validate.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice, type GpuStorage, type WebGpuDevice } from '../webgpu-device.js';
import { packUniforms } from '../wgsl.js';
import { dispatchLinear, linearMain } from './elementwise.js';
import { recordGemm, recordGemmRegion } from './matmul.js';
import { recordTranspose } from './reduce.js';
import { span, windowCapacity, windowOf } from './windows.js';

const BLOCK = 32;
const FACTOR_THREADS = 256;
/** Diagonal block order of the blocked triangular inverse; each block is inverted by one thread per column. */
const INVERSE_BLOCK = 64;

/** Status tensor contents: [-1, 0] when every pivot was positive, else [pivot index, pivot value]. */
function createStatus(device: WebGpuDevice): Tensor {
  return device.tensor([-1, 0], [2], 'f32');
}

/**
 * Raises LimitError when a diagonal block and the rows beside it (`block` rows
 * of an n×n f32 matrix) exceed one binding, the least that the factor and
 * inverse steps bind at once.
 */
function assertBlockRowsFit(device: WebGpuDevice, op: string, n: number, block: number): void {
  const rows = Math.min(block, n);
  const needed = span(rows, rows, n);
  if (needed > windowCapacity(device, 'f32')) {
    throw new LimitError(
      `${op}: ${rows} rows of a ${n}×${n} f32 matrix need ${needed * 4} bytes in one binding, over maxStorageBufferBindingSize ${device.limits.maxStorageBufferBindingSize}; use the cpu device`,
    );
  }
}

/** Rows of an n-wide f32 region starting anywhere that one window can hold, at most `rows`. */
function rowsPerWindow(device: WebGpuDevice, n: number, width: number, rows: number): number {
  return Math.max(1, Math.min(rows, Math.floor((windowCapacity(device, 'f32') - width) / n) + 1));
}

/** Factors the diagonal block at (j0, j0) in place and copies the factor (upper part zero) into `diagonal` ([jb, jb]). */
function recordFactorBlock(device: WebGpuDevice, work: GPUBuffer, status: GPUBuffer, diagonal: GPUBuffer, n: number, j0: number, jb: number): void {
  const code = (): string => `struct Params { n: u32, j0: u32, jb: u32, offset: u32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> status: array<f32>;
@group(0) @binding(2) var<storage, read_write> factor: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> block: array<array<f32, ${BLOCK}>, ${BLOCK}>;

@compute @workgroup_size(${FACTOR_THREADS})
fn main(@builtin(local_invocation_index) lid: u32) {
  let cells = p.jb * p.jb;
  for (var e = lid; e < cells; e = e + ${FACTOR_THREADS}u) {
    block[e / p.jb][e % p.jb] = a[p.offset + (e / p.jb) * p.n + e % p.jb];
  }
  workgroupBarrier();

  for (var c = 0u; c < p.jb; c = c + 1u) {
    if (lid == 0u) {
      let pivot = block[c][c];
      // Written so that NaN also fails the test. After a failure the values are meaningless; the op raises.
      if (!(pivot > 0.0) && status[0] < 0.0) {
        status[0] = f32(p.j0 + c);
        status[1] = pivot;
      }
      block[c][c] = sqrt(pivot);
    }
    workgroupBarrier();
    let diagonal = block[c][c];
    for (var r = c + 1u + lid; r < p.jb; r = r + ${FACTOR_THREADS}u) {
      block[r][c] = block[r][c] / diagonal;
    }
    workgroupBarrier();
    // Rank-1 update of the rest of the block's lower triangle.
    let rest = p.jb - c - 1u;
    for (var e = lid; e < rest * rest; e = e + ${FACTOR_THREADS}u) {
      let r = c + 1u + e / rest;
      let q = c + 1u + e % rest;
      if (q <= r) { block[r][q] = block[r][q] - block[r][c] * block[q][c]; }
    }
    workgroupBarrier();
  }

  for (var e = lid; e < cells; e = e + ${FACTOR_THREADS}u) {
    let r = e / p.jb;
    let q = e % p.jb;
    let value = select(0.0, block[r][q], q <= r);
    a[p.offset + r * p.n + q] = value;
    factor[e] = value;
  }
}`;
  const start = j0 * n + j0;
  const window = windowOf(work, 'f32', start, start + span(jb, jb, n));
  device.dispatch({ key: 'cholesky:factorBlock', code, bindings: [window.binding, status, diagonal], uniforms: packUniforms([n, j0, jb, window.offset]), workgroups: [1] });
}

/**
 * Solves rows j1..n of the panel below the diagonal block (row r of L21 solves
 * x·L11ᵀ = A21[r]) and copies them to `panel` ([n - j1, jb]), in windows of rows.
 */
function recordSolvePanel(device: WebGpuDevice, work: GPUBuffer, diagonal: GPUBuffer, panel: GPUBuffer, n: number, j0: number, jb: number): void {
  const code = (): string => `struct Params { start: u32, count: u32, n: u32, jb: u32, aOffset: u32, panelOffset: u32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read> factor: array<f32>;
@group(0) @binding(2) var<storage, read_write> panel: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${linearMain(`let row = p.aOffset + index * p.n;
  let out = p.panelOffset + index * p.jb;
  for (var c = 0u; c < p.jb; c = c + 1u) {
    var x = a[row + c];
    for (var s = 0u; s < c; s = s + 1u) {
      x = x - panel[out + s] * factor[c * p.jb + s];
    }
    x = x / factor[c * p.jb + c];
    a[row + c] = x;
    panel[out + c] = x;
  }`)}`;
  const j1 = j0 + jb;
  const rows = n - j1;
  const step = Math.min(rowsPerWindow(device, n, jb, rows), Math.floor(windowCapacity(device, 'f32') / jb));
  for (let r0 = 0; r0 < rows; r0 += step) {
    const count = Math.min(step, rows - r0);
    const aStart = (j1 + r0) * n + j0;
    const aWindow = windowOf(work, 'f32', aStart, aStart + span(count, jb, n));
    const panelWindow = windowOf(panel, 'f32', r0 * jb, (r0 + count) * jb);
    dispatchLinear(device, 'cholesky:solvePanel', code, [aWindow.binding, diagonal, panelWindow.binding], count, [n, jb, aWindow.offset, panelWindow.offset]);
  }
}

/** Zeroes the strict upper triangle, in windows of whole rows. */
function recordZeroUpper(device: WebGpuDevice, work: GPUBuffer, n: number): void {
  const code = (): string => `struct Params { start: u32, count: u32, n: u32, firstRow: u32, offset: u32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;
${linearMain(`if (index % p.n > p.firstRow + index / p.n) { a[p.offset + index] = 0.0; }`)}`;
  const step = rowsPerWindow(device, n, n, n);
  for (let r0 = 0; r0 < n; r0 += step) {
    const count = Math.min(step, n - r0);
    const window = windowOf(work, 'f32', r0 * n, (r0 + count) * n);
    dispatchLinear(device, 'cholesky:zeroUpper', code, [window.binding], count * n, [n, r0, window.offset]);
  }
}

/** Records L = chol(source) into a new tensor; failures go to `status`. */
export function recordCholesky(device: WebGpuDevice, source: GPUBuffer, n: number, status: GPUBuffer): Tensor {
  const out = device.createTensor([n, n], 'f32');
  const work = out.storage<GpuStorage>('cholesky').buffer;
  if (n === 0) return out;
  device.copyBuffer(source, 0, work, 0, n * n * 4);
  const panel = device.createTensor([Math.max(1, n - 1), BLOCK], 'f32');
  const panelBuffer = panel.storage<GpuStorage>('cholesky').buffer;
  const diagonal = device.createTensor([BLOCK, BLOCK], 'f32');
  const diagonalBuffer = diagonal.storage<GpuStorage>('cholesky').buffer;

  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const jb = Math.min(BLOCK, n - j0);
    const j1 = j0 + jb;
    recordFactorBlock(device, work, status, diagonalBuffer, n, j0, jb);
    if (j1 >= n) break;
    recordSolvePanel(device, work, diagonalBuffer, panelBuffer, n, j0, jb);
    // Trailing update A[j1:, j1:] -= P·Pᵀ on the lower triangle; the upper is zeroed at the end.
    recordGemmRegion(device, {
      a: { buffer: panelBuffer, offset: 0, ld: jb },
      b: { buffer: panelBuffer, offset: 0, ld: jb },
      c: { buffer: work, offset: j1 * n + j1, ld: n },
      m: n - j1,
      n: n - j1,
      k: jb,
      transA: false,
      transB: true,
      alpha: -1,
      beta: 1,
      lowerOnly: true,
    });
  }
  recordZeroUpper(device, work, n);
  panel.dispose();
  diagonal.dispose();
  return out;
}

/**
 * Inverts the diagonal block of L at (i0, i0) by forward substitution, one
 * thread per column, into the same place of Y and into `copy` ([ib, ib]).
 */
function recordInvertDiagonalBlock(device: WebGpuDevice, l: GPUBuffer, y: GPUBuffer, copy: GPUBuffer, n: number, i0: number, ib: number): void {
  const code = (): string => `struct Params { start: u32, count: u32, n: u32, ib: u32, lOffset: u32, yOffset: u32 }
@group(0) @binding(0) var<storage, read> l: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> copy: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${linearMain(`let j = index;
  // The copy is a pooled buffer that the product below reads whole, so its upper triangle must be zeroed.
  for (var i = 0u; i < j; i = i + 1u) { copy[i * p.ib + j] = 0.0; }
  for (var i = j; i < p.ib; i = i + 1u) {
    var x = select(0.0, 1.0, i == j);
    for (var k = j; k < i; k = k + 1u) {
      x = x - l[p.lOffset + i * p.n + k] * copy[k * p.ib + j];
    }
    let value = x / l[p.lOffset + i * p.n + i];
    y[p.yOffset + i * p.n + j] = value;
    copy[i * p.ib + j] = value;
  }`)}`;
  const start = i0 * n + i0;
  const lWindow = windowOf(l, 'f32', start, start + span(ib, ib, n));
  const yWindow = windowOf(y, 'f32', start, start + span(ib, ib, n));
  dispatchLinear(device, 'choleskyInverse:invertDiagonalBlock', code, [lWindow.binding, yWindow.binding, copy], ib, [n, ib, lWindow.offset, yWindow.offset]);
}

/**
 * Records Y = L⁻¹ by block rows: Y[i,i] = L[i,i]⁻¹ and
 * Y[i, :i] = −Y[i,i]·(L[i, :i]·Y[:i, :i]). The product ignores the zero upper
 * triangle of Y[:i, :i], so this does about 2d³/3 flops instead of d³/3, all
 * in the windowed matmul. `y` must be zero on entry (its upper triangle stays zero).
 */
function recordLowerInverse(device: WebGpuDevice, l: GPUBuffer, y: GPUBuffer, n: number): void {
  const copy = device.createTensor([INVERSE_BLOCK, INVERSE_BLOCK], 'f32');
  const copyBuffer = copy.storage<GpuStorage>('choleskyInverse').buffer;
  const product = device.createTensor([INVERSE_BLOCK, Math.max(1, n - INVERSE_BLOCK)], 'f32');
  const productBuffer = product.storage<GpuStorage>('choleskyInverse').buffer;

  for (let i0 = 0; i0 < n; i0 += INVERSE_BLOCK) {
    const ib = Math.min(INVERSE_BLOCK, n - i0);
    recordInvertDiagonalBlock(device, l, y, copyBuffer, n, i0, ib);
    if (i0 === 0) continue;
    // T = L[i, :i]·Y[:i, :i] into a separate buffer, then Y[i, :i] = −Y[i,i]·T with Y[i,i] read from its copy,
    // because a writable binding may not overlap another binding of the same buffer.
    recordGemmRegion(device, {
      a: { buffer: l, offset: i0 * n, ld: n },
      b: { buffer: y, offset: 0, ld: n },
      c: { buffer: productBuffer, offset: 0, ld: i0 },
      m: ib,
      n: i0,
      k: i0,
      transA: false,
      transB: false,
      alpha: 1,
      beta: 0,
    });
    recordGemmRegion(device, {
      a: { buffer: copyBuffer, offset: 0, ld: ib },
      b: { buffer: productBuffer, offset: 0, ld: i0 },
      c: { buffer: y, offset: i0 * n, ld: n },
      m: ib,
      n: i0,
      k: ib,
      transA: false,
      transB: false,
      alpha: -1,
      beta: 0,
    });
  }
  copy.dispose();
  product.dispose();
}

/** Records (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹: the blocked lower inverse, then a matmul. */
export function recordCholeskyInverse(device: WebGpuDevice, l: GPUBuffer, n: number): Tensor {
  const out = device.createTensor([n, n], 'f32');
  if (n === 0) return out;
  const inverseFactor = device.zeros([n, n], 'f32');
  recordLowerInverse(device, l, inverseFactor.storage<GpuStorage>('choleskyInverse').buffer, n);

  const storage = inverseFactor.storage<GpuStorage>('choleskyInverse');
  recordGemm(device, {
    a: storage,
    b: storage,
    c: out.storage<GpuStorage>('choleskyInverse'),
    bias: null,
    dtype: 'f32',
    transA: true,
    transB: false,
    batch: 1,
    bBatchStride: 0,
    m: n,
    n,
    k: n,
    alpha: 1,
    beta: 0,
  });
  inverseFactor.dispose();
  return out;
}

/**
 * Records H + λI with λ = percdamp · mean(diag H), computed on the device:
 * one pass sums the diagonal per window of rows, a second adds λ.
 */
function recordDamped(device: WebGpuDevice, h: GPUBuffer, n: number, percdamp: number): Tensor {
  const out = device.createTensor([n, n], 'f32');
  const target = out.storage<GpuStorage>('inverseHessianFactor').buffer;
  if (n === 0) return out;
  device.copyBuffer(h, 0, target, 0, n * n * 4);

  const step = rowsPerWindow(device, n, n, n);
  const windows = Math.ceil(n / step);
  const partials = device.createTensor([windows], 'f32');
  const partialBuffer = partials.storage<GpuStorage>('inverseHessianFactor').buffer;
  const diagonalWindow = (r0: number): ReturnType<typeof windowOf> => {
    const count = Math.min(step, n - r0);
    return windowOf(target, 'f32', r0 * n + r0, r0 * n + r0 + span(count, count, n));
  };

  const sumCode = (): string => `struct Params { n: u32, rows: u32, offset: u32, slot: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var i = lid; i < p.rows; i = i + 256u) { sum = sum + a[p.offset + i * (p.n + 1u)]; }
  partial[lid] = sum;
  workgroupBarrier();
  for (var width = 128u; width > 0u; width = width / 2u) {
    if (lid < width) { partial[lid] = partial[lid] + partial[lid + width]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[p.slot] = partial[0]; }
}`;
  const addCode = (): string => `struct Params { n: u32, rows: u32, offset: u32, windows: u32, percdamp: f32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var trace = 0.0;
  for (var w = 0u; w < p.windows; w = w + 1u) { trace = trace + partials[w]; }
  let damping = p.percdamp * trace / f32(p.n);
  for (var i = lid; i < p.rows; i = i + 256u) { a[p.offset + i * (p.n + 1u)] = a[p.offset + i * (p.n + 1u)] + damping; }
}`;

  for (let w = 0; w < windows; w++) {
    const window = diagonalWindow(w * step);
    const rows = Math.min(step, n - w * step);
    device.dispatch({ key: 'inverseHessianFactor:sumDiagonal', code: sumCode, bindings: [window.binding, partialBuffer], uniforms: packUniforms([n, rows, window.offset, w]), workgroups: [1] });
  }
  for (let w = 0; w < windows; w++) {
    const window = diagonalWindow(w * step);
    const rows = Math.min(step, n - w * step);
    device.dispatch({
      key: 'inverseHessianFactor:addDamping',
      code: addCode,
      bindings: [window.binding, partialBuffer],
      uniforms: packUniforms([n, rows, window.offset, windows, { f: percdamp }]),
      workgroups: [1],
    });
  }
  partials.dispose();
  return out;
}

registerKernel({
  name: 'cholesky',
  device: 'webgpu',
  run(inputs, _attrs, device) {
    const n = assertCholeskyInput('cholesky', inputs);
    const gpu = asWebGpuDevice(device);
    assertBlockRowsFit(gpu, 'cholesky', n, BLOCK);
    const status = createStatus(gpu);
    const l = recordCholesky(gpu, inputs[0].storage<GpuStorage>('cholesky').buffer, n, status.storage<GpuStorage>('cholesky').buffer);
    return [l, status];
  },
});

registerKernel({
  name: 'choleskyInverse',
  device: 'webgpu',
  run(inputs, _attrs, device) {
    const n = assertCholeskyInput('choleskyInverse', inputs);
    const gpu = asWebGpuDevice(device);
    assertBlockRowsFit(gpu, 'choleskyInverse', n, INVERSE_BLOCK);
    return [recordCholeskyInverse(gpu, inputs[0].storage<GpuStorage>('choleskyInverse').buffer, n)];
  },
});

registerKernel<{ percdamp: number }>({
  name: 'inverseHessianFactor',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const op = 'inverseHessianFactor';
    const n = assertCholeskyInput(op, inputs, attrs.percdamp);
    const gpu = asWebGpuDevice(device);
    assertBlockRowsFit(gpu, op, n, INVERSE_BLOCK);
    const status = createStatus(gpu);
    const statusBuffer = status.storage<GpuStorage>(op).buffer;

    const damped = recordDamped(gpu, inputs[0].storage<GpuStorage>(op).buffer, n, attrs.percdamp);
    const l = recordCholesky(gpu, damped.storage<GpuStorage>(op).buffer, n, statusBuffer);
    damped.dispose();
    const inverse = recordCholeskyInverse(gpu, l.storage<GpuStorage>(op).buffer, n);
    l.dispose();
    const lowerOfInverse = recordCholesky(gpu, inverse.storage<GpuStorage>(op).buffer, n, statusBuffer);
    inverse.dispose();
    const upper = gpu.createTensor([n, n], 'f32');
    recordTranspose(gpu, lowerOfInverse, upper, 1, n, n);
    lowerOfInverse.dispose();
    return [upper, status];
  },
});
