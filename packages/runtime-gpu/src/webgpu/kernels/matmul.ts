/**
 * webgpu matmul: planning (tile configuration, binding windows, chunking)
 * and dispatch of the register-blocked shader in matmul-shader.ts.
 *
 * A tensor larger than maxStorageBufferBindingSize is not rejected: the
 * product is split into chunks along M, N or K whose buffer windows each fit
 * one binding, and K chunks accumulate into C (β = 1 after the first).
 */
import { bytesPerElement, type DType } from '../../dtype.js';
import { LimitError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes, planMatmul } from '../../kernels/validate.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice, type BufferBinding, type GpuStorage, type WebGpuDevice } from '../webgpu-device.js';
import { packUniforms } from '../wgsl.js';
import { directMatmulKey, directMatmulShader, SUBGROUP_ROWS_PER_LOAD, type DirectMatmulConfig } from './matmul-direct-shader.js';
import { matmulKey, matmulShader, tileShape, type MatmulShaderConfig, type MatmulTileConfig } from './matmul-shader.js';

/** Shader family for matmul. `auto` takes the direct kernel on software adapters when the shapes allow it. */
export type MatmulKernelPreference = 'auto' | 'tiled' | 'direct';

let kernelPreference: MatmulKernelPreference = 'auto';

/** Forces a matmul shader family (tests and benchmarks compare them); returns the previous setting. */
export function setMatmulKernelPreference(preference: MatmulKernelPreference): MatmulKernelPreference {
  const previous = kernelPreference;
  kernelPreference = preference;
  return previous;
}

/**
 * Rows per thread of the direct kernel. Without subgroups, 8 measured best on lavapipe
 * because 16 spills registers and costs 16 uniform A loads per 4 k. With subgroups and
 * plain A, 16 rows cost 2 A loads per 4 k and measured faster than 8 and than 32. With
 * subgroups and transposed A, 8 rows measured faster than 16.
 */
const DIRECT_ROWS = 8;
const DIRECT_SUBGROUP_ROWS = 16;
const DIRECT_WIDTH = 128;

/**
 * Whether the direct kernel may share A values through subgroups: every subgroup must
 * be at least as wide as the rows (or k steps) that one load covers.
 * NOTE: a standalone 1024³ f32 timing script on lavapipe (Mesa 25.0, LLVM 15, 256-bit,
 * 2-core AMD EPYC host with a load average of 9–14 from other jobs) measured 7.3–9.1 GFLOP
 * per CPU-second for the subgroup kernel and 3.9–4.7 without subgroups (transposed A:
 * 7.0 against 4.0). Two idle cores would give an estimated 15–18 GFLOP/s, short of the
 * 20 GFLOP/s aimed for. That estimate is untested because the cores were never idle.
 */
function useSubgroupRows(device: WebGpuDevice): boolean {
  return device.features.has('subgroups') && device.limits.subgroupMinSize >= SUBGROUP_ROWS_PER_LOAD;
}

/** 16×16 threads, 4×4 outputs each: a 64×64 tile. Chosen by measurement on lavapipe (see bench/foundation.ts). */
export const LARGE_TILE: MatmulTileConfig = { wgX: 16, wgY: 16, rows: 4, vecCols: 1, tileK: 16 };
/** 8×8 threads, 4×4 outputs each: a 32×32 tile, for outputs too small to fill many 64×64 tiles. */
export const SMALL_TILE: MatmulTileConfig = { wgX: 8, wgY: 8, rows: 4, vecCols: 1, tileK: 16 };

export function chooseTile(m: number, n: number, batch: number): MatmulTileConfig {
  const largeTiles = Math.ceil(m / 64) * Math.ceil(n / 64) * batch;
  return largeTiles >= 16 ? LARGE_TILE : SMALL_TILE;
}

const STORAGE_OFFSET_ALIGNMENT = 256;

/** Builds a binding that covers elements [start, end) of a buffer and returns the element offset of `start` inside it. */
function windowOf(buffer: GPUBuffer, dtype: DType, start: number, end: number): { binding: BufferBinding; offset: number } {
  const bytes = bytesPerElement(dtype);
  const byteStart = start * bytes;
  const alignedStart = Math.floor(byteStart / STORAGE_OFFSET_ALIGNMENT) * STORAGE_OFFSET_ALIGNMENT;
  const byteEnd = Math.min(buffer.size, Math.ceil((Math.max(end, start + 1) * bytes) / 4) * 4);
  return { binding: { buffer, offset: alignedStart, size: byteEnd - alignedStart }, offset: (byteStart - alignedStart) / bytes };
}

/** Elements spanned by a row-major region of `rows` rows × `cols` columns with leading dimension `ld`. */
function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

export interface GemmArgs {
  a: GpuStorage;
  b: GpuStorage;
  c: GpuStorage;
  bias: GpuStorage | null;
  dtype: DType;
  transA: boolean;
  transB: boolean;
  batch: number;
  /** 0 when B is shared by every batch. */
  bBatchStride: number;
  m: number;
  n: number;
  k: number;
  alpha: number;
  /** Weight of the old C; 0 overwrites C. */
  beta: number;
  /** Compute only upper-triangle tiles (the caller mirrors afterwards). */
  triangular?: boolean;
}

/** Records C = α·op(A)·op(B) + β·C + bias, chunked as needed to fit binding limits. */
export function recordGemm(device: WebGpuDevice, args: GemmArgs): void {
  const { dtype, m, n, k, batch } = args;
  const lda = args.transA ? m : k;
  const ldb = args.transB ? k : n;
  const ldc = n;
  const limit = device.limits.maxStorageBufferBindingSize - STORAGE_OFFSET_ALIGNMENT;
  const bytes = bytesPerElement(dtype);
  const tile = chooseTile(m, n, batch);
  const { tileM, tileN } = tileShape(tile);
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  const bias = args.bias ? args.bias.buffer : dummyBias(device);

  const fitsWhole =
    args.a.byteLength <= limit && args.b.byteLength <= limit && args.c.byteLength <= limit && Math.ceil(m / tileM) <= maxGroups && Math.ceil(n / tileN) <= maxGroups;

  const subgroups = useSubgroupRows(device);
  const directRows = subgroups && !args.transA ? DIRECT_SUBGROUP_ROWS : DIRECT_ROWS;
  const directFits =
    dtype === 'f32' && !args.transB && n % 4 === 0 && (args.transA ? m % 4 === 0 : k % 4 === 0) &&
    Math.ceil(n / 4 / DIRECT_WIDTH) <= maxGroups && Math.ceil(m / directRows) <= maxGroups && batch <= maxGroups;
  const useDirect = fitsWhole && directFits && (kernelPreference === 'direct' || (kernelPreference === 'auto' && device.info.isFallbackAdapter));
  if (useDirect) {
    const config: DirectMatmulConfig = { transA: args.transA, rows: directRows, width: DIRECT_WIDTH, triangular: args.triangular === true && m === n, subgroups };
    device.dispatch({
      key: directMatmulKey(config),
      code: () => directMatmulShader(config),
      bindings: [args.a.buffer, args.b.buffer, args.c.buffer, bias],
      uniforms: packUniforms([m, n / 4, k, lda / 4, ldb / 4, ldc / 4, 0, 0, 0, (m * k) / 4, args.bBatchStride / 4, (m * n) / 4,
        { f: args.alpha }, { f: args.beta }, args.bias ? 1 : 0]),
      workgroups: [Math.ceil(n / 4 / DIRECT_WIDTH), Math.ceil(m / directRows), batch],
    });
    return;
  }

  if (fitsWhole) {
    const triangular = args.triangular === true && m === n && tileM === tileN;
    const tilesN = Math.ceil(n / tileN);
    for (let batch0 = 0; batch0 < batch; batch0 += maxGroups) {
      const batches = Math.min(maxGroups, batch - batch0);
      const grid: [number, number, number] = triangular
        ? [(tilesN * (tilesN + 1)) / 2, 1, batches]
        : [tilesN, Math.ceil(m / tileM), batches];
      if (grid[0] > maxGroups) break; // fall through to chunked path below
      dispatchGemm(device, { dtype, transA: args.transA, transB: args.transB, tile, triangular }, grid, {
        a: { buffer: args.a.buffer },
        b: { buffer: args.b.buffer },
        c: { buffer: args.c.buffer },
        bias: { buffer: bias },
        values: [m, n, k, lda, ldb, ldc, batch0 * m * k, batch0 * args.bBatchStride, batch0 * m * n, m * k, args.bBatchStride, m * n,
          { f: args.alpha }, { f: args.beta }, args.bias ? 1 : 0, 0, tilesN],
      });
      if (batch0 + batches >= batch) return;
    }
    if (!triangular) return;
  }

  // Chunked path: shrink the M, N and K steps until every window fits one binding.
  let mStep = m;
  let nStep = n;
  let kStep = k;
  const roundStep = (value: number, multiple: number): number =>
    value > multiple ? Math.max(multiple, Math.floor(value / multiple) * multiple) : Math.max(1, Math.floor(value));
  for (let guard = 0; guard < 200; guard++) {
    const aSpan = (args.transA ? span(kStep, mStep, lda) : span(mStep, kStep, lda)) * bytes;
    const bSpan = (args.transB ? span(nStep, kStep, ldb) : span(kStep, nStep, ldb)) * bytes;
    const cSpan = span(mStep, nStep, ldc) * bytes;
    if (aSpan <= limit && bSpan <= limit && cSpan <= limit && Math.ceil(mStep / tileM) <= maxGroups && Math.ceil(nStep / tileN) <= maxGroups) break;
    if (aSpan > limit) {
      if (args.transA ? kStep > 1 : mStep === 1) kStep = roundStep(kStep / 2, tile.tileK);
      else mStep = roundStep(mStep / 2, tileM);
    } else if (bSpan > limit) {
      if (!args.transB || nStep === 1) kStep = roundStep(kStep / 2, tile.tileK);
      else nStep = roundStep(nStep / 2, tileN);
    } else if (cSpan > limit || Math.ceil(mStep / tileM) > maxGroups) {
      mStep = mStep > 1 ? roundStep(mStep / 2, tileM) : mStep;
      if (mStep === 1 && cSpan > limit) nStep = roundStep(nStep / 2, tileN);
    } else {
      nStep = roundStep(nStep / 2, tileN);
    }
    if (guard === 199) {
      throw new LimitError(`matmul: cannot split [${m}×${k}]·[${k}×${n}] into windows of at most ${limit} bytes (maxStorageBufferBindingSize)`);
    }
  }

  const config: MatmulShaderConfig = { dtype, transA: args.transA, transB: args.transB, tile, triangular: false };
  for (let p = 0; p < batch; p++) {
    const aBase = p * m * k;
    const bBase = p * args.bBatchStride;
    const cBase = p * m * n;
    for (let m0 = 0; m0 < m; m0 += mStep) {
      const mCount = Math.min(mStep, m - m0);
      for (let n0 = 0; n0 < n; n0 += nStep) {
        const nCount = Math.min(nStep, n - n0);
        for (let k0 = 0; k0 < k; k0 += kStep) {
          const kCount = Math.min(kStep, k - k0);
          const aStart = aBase + (args.transA ? k0 * lda + m0 : m0 * lda + k0);
          const bStart = bBase + (args.transB ? n0 * ldb + k0 : k0 * ldb + n0);
          const cStart = cBase + m0 * ldc + n0;
          const aWindow = windowOf(args.a.buffer, dtype, aStart, aStart + (args.transA ? span(kCount, mCount, lda) : span(mCount, kCount, lda)));
          const bWindow = windowOf(args.b.buffer, dtype, bStart, bStart + (args.transB ? span(nCount, kCount, ldb) : span(kCount, nCount, ldb)));
          const cWindow = windowOf(args.c.buffer, dtype, cStart, cStart + span(mCount, nCount, ldc));
          const biasWindow = windowOf(bias, dtype, n0, n0 + nCount);
          const first = k0 === 0;
          dispatchGemm(device, config, [Math.ceil(nCount / tileN), Math.ceil(mCount / tileM), 1], {
            a: aWindow.binding,
            b: bWindow.binding,
            c: cWindow.binding,
            bias: args.bias ? biasWindow.binding : { buffer: bias },
            values: [mCount, nCount, kCount, lda, ldb, ldc, aWindow.offset, bWindow.offset, cWindow.offset, 0, 0, 0,
              { f: args.alpha }, { f: first ? args.beta : 1 }, args.bias && first ? 1 : 0, args.bias ? biasWindow.offset : 0, 0],
          });
        }
      }
    }
  }
}

function dispatchGemm(
  device: WebGpuDevice,
  config: MatmulShaderConfig,
  grid: [number, number, number],
  parts: { a: BufferBinding; b: BufferBinding; c: BufferBinding; bias: BufferBinding; values: (number | { f: number })[] },
): void {
  device.dispatch({
    key: matmulKey(config),
    code: () => matmulShader(config),
    bindings: [parts.a, parts.b, parts.c, parts.bias],
    uniforms: packUniforms(parts.values),
    workgroups: grid,
  });
}

const dummyBiases = new WeakMap<WebGpuDevice, GPUBuffer>();

function dummyBias(device: WebGpuDevice): GPUBuffer {
  let buffer = dummyBiases.get(device);
  if (buffer === undefined) {
    buffer = device.gpu.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    dummyBiases.set(device, buffer);
  }
  return buffer;
}

registerKernel<{ transA: boolean; transB: boolean }>({
  name: 'matmul',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const [a, b, bias] = inputs as [Tensor, Tensor, Tensor | undefined];
    const op = 'matmul';
    const dtype = assertDTypes(op, bias ? [a, b, bias] : [a, b], ['f32', 'f16']);
    const plan = planMatmul(op, a, b, bias, attrs.transA, attrs.transB);
    const gpu = asWebGpuDevice(device);
    const out = gpu.createTensor(plan.outShape, dtype);
    recordGemm(gpu, {
      a: a.storage<GpuStorage>(op),
      b: b.storage<GpuStorage>(op),
      c: out.storage<GpuStorage>(op),
      bias: bias ? bias.storage<GpuStorage>(op) : null,
      dtype,
      transA: attrs.transA,
      transB: attrs.transB,
      batch: plan.batch,
      bBatchStride: plan.batchB === 1 ? 0 : plan.k * plan.n,
      m: plan.m,
      n: plan.n,
      k: plan.k,
      alpha: 1,
      beta: 0,
    });
    return [out];
  },
});

/** A matrix inside a buffer: f32 elements from `offset` with leading dimension `ld`. */
export interface MatrixRegion {
  buffer: GPUBuffer;
  offset: number;
  ld: number;
}

/**
 * Records C = α·op(A)·op(B) + β·C on f32 sub-matrices of whole buffers (each
 * buffer must fit one binding, and C's buffer must differ from A's and B's,
 * because WebGPU rejects a writable binding that aliases another).
 */
export function recordGemmRegion(
  device: WebGpuDevice,
  args: { a: MatrixRegion; b: MatrixRegion; c: MatrixRegion; m: number; n: number; k: number; transA: boolean; transB: boolean; alpha: number; beta: number },
): void {
  const limit = device.limits.maxStorageBufferBindingSize;
  for (const region of [args.a, args.b, args.c]) {
    if (region.buffer.size > limit) {
      throw new LimitError(`matmul: a ${region.buffer.size}-byte buffer exceeds maxStorageBufferBindingSize ${limit} for a sub-matrix product`);
    }
  }
  const tile = chooseTile(args.m, args.n, 1);
  const { tileM, tileN } = tileShape(tile);
  const config: MatmulShaderConfig = { dtype: 'f32', transA: args.transA, transB: args.transB, tile, triangular: false };
  dispatchGemm(device, config, [Math.ceil(args.n / tileN), Math.ceil(args.m / tileM), 1], {
    a: { buffer: args.a.buffer },
    b: { buffer: args.b.buffer },
    c: { buffer: args.c.buffer },
    bias: { buffer: dummyBias(device) },
    values: [args.m, args.n, args.k, args.a.ld, args.b.ld, args.c.ld, args.a.offset, args.b.offset, args.c.offset, 0, 0, 0,
      { f: args.alpha }, { f: args.beta }, 0, 0, 0],
  });
}
