/**
 * webgpu linear algebra in f32: blocked right-looking Cholesky, the inverse
 * from a Cholesky factor, and SparseGPT's inverse-Hessian factor.
 *
 * Cholesky works on panels of BLOCK columns: one workgroup factors the
 * diagonal block in workgroup memory, one thread per row solves the panel
 * below it, and the matmul kernel subtracts panel·panelᵀ from the trailing
 * matrix. A pivot that is not positive is written to a status buffer (index,
 * value), which the op reads to raise NotPositiveDefiniteError.
 */
import { LimitError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes, assertSquareMatrix } from '../../kernels/validate.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice, type GpuStorage, type WebGpuDevice } from '../webgpu-device.js';
import { packUniforms } from '../wgsl.js';
import { dispatchLinear, linearMain } from './elementwise.js';
import { recordGemm, recordGemmRegion } from './matmul.js';

const BLOCK = 32;
const FACTOR_THREADS = 256;

/** Status tensor contents: [-1, 0] when every pivot was positive, else [pivot index, pivot value]. */
function createStatus(device: WebGpuDevice): Tensor {
  return device.tensor([-1, 0], [2], 'f32');
}

function recordFactorBlock(device: WebGpuDevice, work: GPUBuffer, status: GPUBuffer, n: number, j0: number, jb: number): void {
  const code = (): string => `struct Params { n: u32, j0: u32, jb: u32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> status: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> block: array<array<f32, ${BLOCK}>, ${BLOCK}>;

@compute @workgroup_size(${FACTOR_THREADS})
fn main(@builtin(local_invocation_index) lid: u32) {
  let cells = p.jb * p.jb;
  for (var e = lid; e < cells; e = e + ${FACTOR_THREADS}u) {
    block[e / p.jb][e % p.jb] = a[(p.j0 + e / p.jb) * p.n + p.j0 + e % p.jb];
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
    a[(p.j0 + r) * p.n + p.j0 + q] = select(0.0, block[r][q], q <= r);
  }
}`;
  device.dispatch({ key: 'cholesky:factorBlock', code, bindings: [work, status], uniforms: packUniforms([n, j0, jb]), workgroups: [1] });
}

/** Solves rows j1..n of the panel against the factored diagonal block; also copies them to `panel` ([n - j1, jb]). */
function recordSolvePanel(device: WebGpuDevice, work: GPUBuffer, panel: GPUBuffer, n: number, j0: number, jb: number): void {
  const code = (): string => `struct Params { start: u32, count: u32, n: u32, j0: u32, jb: u32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> panel: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${linearMain(`let row = p.j0 + p.jb + index;
  for (var c = 0u; c < p.jb; c = c + 1u) {
    var x = a[row * p.n + p.j0 + c];
    for (var s = 0u; s < c; s = s + 1u) {
      x = x - a[row * p.n + p.j0 + s] * a[(p.j0 + c) * p.n + p.j0 + s];
    }
    x = x / a[(p.j0 + c) * p.n + p.j0 + c];
    a[row * p.n + p.j0 + c] = x;
    panel[index * p.jb + c] = x;
  }`)}`;
  dispatchLinear(device, 'cholesky:solvePanel', code, [work, panel], n - j0 - jb, [n, j0, jb]);
}

function recordZeroUpper(device: WebGpuDevice, work: GPUBuffer, n: number): void {
  const code = (): string => `struct Params { start: u32, count: u32, n: u32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;
${linearMain(`if (index % p.n > index / p.n) { a[index] = 0.0; }`)}`;
  dispatchLinear(device, 'cholesky:zeroUpper', code, [work], n * n, [n]);
}

function assertFitsBinding(device: WebGpuDevice, op: string, n: number): void {
  const bytes = n * n * 4;
  if (bytes > device.limits.maxStorageBufferBindingSize) {
    // TODO: tile the Cholesky trailing update over binding windows for matrices beyond one binding.
    throw new LimitError(`${op}: a ${n}×${n} f32 matrix needs ${bytes} bytes, over maxStorageBufferBindingSize ${device.limits.maxStorageBufferBindingSize}`);
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

  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const jb = Math.min(BLOCK, n - j0);
    const j1 = j0 + jb;
    recordFactorBlock(device, work, status, n, j0, jb);
    if (j1 >= n) break;
    recordSolvePanel(device, work, panelBuffer, n, j0, jb);
    // Trailing update A[j1:, j1:] -= P·Pᵀ; only the lower triangle matters, the upper is zeroed at the end.
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
    });
  }
  recordZeroUpper(device, work, n);
  panel.dispose();
  return out;
}

/** Records (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹: one thread per column of L⁻¹ (forward substitution), then a matmul. */
export function recordCholeskyInverse(device: WebGpuDevice, l: GPUBuffer, n: number): Tensor {
  const inverseFactor = device.zeros([n, n], 'f32');
  const y = inverseFactor.storage<GpuStorage>('choleskyInverse').buffer;
  const code = (): string => `struct Params { start: u32, count: u32, n: u32 }
@group(0) @binding(0) var<storage, read> l: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${linearMain(`let j = index;
  for (var i = j; i < p.n; i = i + 1u) {
    var x = select(0.0, 1.0, i == j);
    for (var k = j; k < i; k = k + 1u) {
      x = x - l[i * p.n + k] * y[k * p.n + j];
    }
    y[i * p.n + j] = x / l[i * p.n + i];
  }`)}`;
  dispatchLinear(device, 'choleskyInverse:lowerInverse', code, [l, y], n, [n]);

  const out = device.createTensor([n, n], 'f32');
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

/** Records H + λI with λ = percdamp · mean(diag H), computed on the device. */
function recordDamped(device: WebGpuDevice, h: GPUBuffer, n: number, percdamp: number): Tensor {
  const out = device.createTensor([n, n], 'f32');
  const target = out.storage<GpuStorage>('inverseHessianFactor').buffer;
  device.copyBuffer(h, 0, target, 0, n * n * 4);
  const code = (): string => `struct Params { n: u32, percdamp: f32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;
var<workgroup> partial: array<f32, 256>;
var<workgroup> lambda: f32;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var i = lid; i < p.n; i = i + 256u) { sum = sum + a[i * p.n + i]; }
  partial[lid] = sum;
  workgroupBarrier();
  for (var width = 128u; width > 0u; width = width / 2u) {
    if (lid < width) { partial[lid] = partial[lid] + partial[lid + width]; }
    workgroupBarrier();
  }
  if (lid == 0u) { lambda = p.percdamp * partial[0] / f32(p.n); }
  workgroupBarrier();
  let damping = lambda;
  for (var i = lid; i < p.n; i = i + 256u) { a[i * p.n + i] = a[i * p.n + i] + damping; }
}`;
  device.dispatch({ key: 'inverseHessianFactor:damp', code, bindings: [target], uniforms: packUniforms([n, { f: percdamp }]), workgroups: [1] });
  return out;
}

function recordTranspose(device: WebGpuDevice, source: GPUBuffer, n: number): Tensor {
  const out = device.createTensor([n, n], 'f32');
  const code = (): string => `struct Params { start: u32, count: u32, n: u32 }
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${linearMain('output[index] = input[(index % p.n) * p.n + index / p.n];')}`;
  dispatchLinear(device, 'transposeSquare:f32', code, [source, out.storage<GpuStorage>('transpose').buffer], n * n, [n]);
  return out;
}

registerKernel({
  name: 'cholesky',
  device: 'webgpu',
  run(inputs, _attrs, device) {
    const [a] = inputs;
    const n = assertSquareMatrix('cholesky', a);
    assertDTypes('cholesky', inputs, ['f32']);
    const gpu = asWebGpuDevice(device);
    assertFitsBinding(gpu, 'cholesky', n);
    const status = createStatus(gpu);
    const l = recordCholesky(gpu, a.storage<GpuStorage>('cholesky').buffer, n, status.storage<GpuStorage>('cholesky').buffer);
    return [l, status];
  },
});

registerKernel({
  name: 'choleskyInverse',
  device: 'webgpu',
  run(inputs, _attrs, device) {
    const [l] = inputs;
    const n = assertSquareMatrix('choleskyInverse', l);
    assertDTypes('choleskyInverse', inputs, ['f32']);
    const gpu = asWebGpuDevice(device);
    assertFitsBinding(gpu, 'choleskyInverse', n);
    return [recordCholeskyInverse(gpu, l.storage<GpuStorage>('choleskyInverse').buffer, n)];
  },
});

registerKernel<{ percdamp: number }>({
  name: 'inverseHessianFactor',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const [h] = inputs;
    const op = 'inverseHessianFactor';
    const n = assertSquareMatrix(op, h);
    assertDTypes(op, inputs, ['f32']);
    const gpu = asWebGpuDevice(device);
    assertFitsBinding(gpu, op, n);
    const status = createStatus(gpu);
    const statusBuffer = status.storage<GpuStorage>(op).buffer;

    const damped = recordDamped(gpu, h.storage<GpuStorage>(op).buffer, n, attrs.percdamp);
    const l = recordCholesky(gpu, damped.storage<GpuStorage>(op).buffer, n, statusBuffer);
    damped.dispose();
    const inverse = recordCholeskyInverse(gpu, l.storage<GpuStorage>(op).buffer, n);
    l.dispose();
    const lowerOfInverse = recordCholesky(gpu, inverse.storage<GpuStorage>(op).buffer, n, statusBuffer);
    inverse.dispose();
    const upper = recordTranspose(gpu, lowerOfInverse.storage<GpuStorage>(op).buffer, n);
    lowerOfInverse.dispose();
    return [upper, status];
  },
});
