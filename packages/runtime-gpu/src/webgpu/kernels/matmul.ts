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
import { span, STORAGE_OFFSET_ALIGNMENT, windowOf } from './windows.js';

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
 * transposed A, 8 rows measured faster than 16.
 */
const DIRECT_ROWS = 8;
const DIRECT_WIDTH = 128;

/** Shape of the plain-A subgroup kernel: rows per thread, threads per workgroup (`auto`: see directWidth) and k steps per loop iteration. */
export interface DirectMatmulShape {
  rows: number;
  width: number | 'auto';
  kUnroll: 4 | 8;
  /** vec4 columns per thread (see DirectMatmulConfig.columnBlocks); 2 needs kUnroll 4. */
  columnBlocks?: 1 | 2;
}

/**
 * NOTE: chosen with a 1024³ f32 sweep on lavapipe (2-core AMD EPYC host, load average 7–24
 * from other jobs), in GFLOP per CPU-second of the process over three to six rounds each.
 * 16 rows × 256 threads measured 9.3–12.0, 16 × 128 9.0–10.8, 24 × 256 8.8–10.1,
 * 32 × 256 8.7–9.1, 32 × 128 6.6–8.7 and 24 × 64 7.1–7.3. Eight k steps per iteration
 * measured 6.0–7.4, and two vec4 columns per thread 8.8–9.1 (8 rows × 128 threads) and
 * 9.3–10.1 (16 × 128). More rows spill more accumulators, and that costs more than the A
 * loads they save. The differences near the top are within the noise of a loaded host.
 * Repeated on idle cores with paced event polling (wall-clock GFLOP/s): 16 × 256 28.6,
 * 16 × 64 29.4, 8 × 64 29.2 and 24 × 128 30.6, again too close to change the default.
 */
const DEFAULT_DIRECT_SHAPE: DirectMatmulShape = { rows: 16, width: 'auto', kUnroll: 4 };
let directShape: DirectMatmulShape = DEFAULT_DIRECT_SHAPE;

/** Overrides the plain-A subgroup kernel's shape (benchmarks compare shapes); returns the previous one. `null` restores the default. */
export function setDirectMatmulShape(shape: DirectMatmulShape | null): DirectMatmulShape {
  const previous = directShape;
  directShape = shape ?? DEFAULT_DIRECT_SHAPE;
  return previous;
}

/**
 * Threads per workgroup of the subgroup kernel: 256 when they all get columns
 * (N a multiple of 1024), else 128, because threads past N still run the loop
 * for the subgroup broadcasts.
 */
function directWidth(n4: number): number {
  if (directShape.width !== 'auto') return directShape.width;
  return n4 % 256 === 0 ? 256 : 128;
}

/**
 * Whether the direct kernel may share A values through subgroups: every subgroup must
 * be at least as wide as the rows (or k steps) that one load covers.
 * At 1024³ f32 on lavapipe (2-core host, load average 9–23 from other jobs), the subgroup
 * kernel measured 7.3–12.0 GFLOP per CPU-second and the kernel without subgroups 3.9–4.7.
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

/**
 * Records C = α·op(A)·op(B) + β·C + bias, chunked as needed to fit binding limits.
 * Returns true when, on a `triangular` request, only the upper triangle was computed,
 * so the caller must mirror it. The chunked path always computes all of C.
 */
export function recordGemm(device: WebGpuDevice, args: GemmArgs): boolean {
  const { dtype, m, n, k, batch } = args;
  const lda = args.transA ? m : k;
  const ldb = args.transB ? k : n;
  const ldc = n;
  const limit = device.limits.maxStorageBufferBindingSize - STORAGE_OFFSET_ALIGNMENT;
  const tile = chooseTile(m, n, batch);
  const { tileM, tileN } = tileShape(tile);
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  const bias = args.bias ? args.bias.buffer : dummyBias(device);

  const fitsWhole =
    args.a.byteLength <= limit && args.b.byteLength <= limit && args.c.byteLength <= limit && Math.ceil(m / tileM) <= maxGroups && Math.ceil(n / tileN) <= maxGroups;

  const subgroups = useSubgroupRows(device);
  const plainSubgroups = subgroups && !args.transA;
  const directRows = plainSubgroups ? directShape.rows : DIRECT_ROWS;
  const kUnroll = plainSubgroups ? directShape.kUnroll : 4;
  const columnBlocks = plainSubgroups ? directShape.columnBlocks ?? 1 : 1;
  const width = plainSubgroups ? directWidth(n / 4 / columnBlocks) : DIRECT_WIDTH;
  const directFits =
    dtype === 'f32' && !args.transB && n % 4 === 0 && (args.transA ? m % 4 === 0 : k % kUnroll === 0) &&
    Math.ceil(n / 4 / width / columnBlocks) <= maxGroups && Math.ceil(m / directRows) <= maxGroups && batch <= maxGroups;
  // NOTE: the direct kernel needs every operand in one binding. Larger products (4096×11008 on lavapipe)
  // take the chunked tiled path below, which measured about 6× slower on lavapipe.
  const useDirect = fitsWhole && directFits && (kernelPreference === 'direct' || (kernelPreference === 'auto' && device.info.isFallbackAdapter));
  if (useDirect) {
    const config: DirectMatmulConfig = { transA: args.transA, rows: directRows, width, triangular: args.triangular === true && m === n, subgroups, kUnroll, columnBlocks };
    device.dispatch({
      key: directMatmulKey(config),
      code: () => directMatmulShader(config),
      bindings: [args.a.buffer, args.b.buffer, args.c.buffer, bias],
      uniforms: packUniforms([m, n / 4, k, lda / 4, ldb / 4, ldc / 4, 0, 0, 0, (m * k) / 4, args.bBatchStride / 4, (m * n) / 4,
        { f: args.alpha }, { f: args.beta }, args.bias ? 1 : 0]),
      workgroups: [Math.ceil(n / 4 / width / columnBlocks), Math.ceil(m / directRows), batch],
    });
    return config.triangular;
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
      if (batch0 + batches >= batch) return triangular;
    }
    if (!triangular) return false;
  }

  recordChunkedGemm(device, {
    a: { buffer: args.a.buffer, offset: 0, ld: lda },
    b: { buffer: args.b.buffer, offset: 0, ld: ldb },
    c: { buffer: args.c.buffer, offset: 0, ld: ldc },
    bias: args.bias ? args.bias.buffer : null,
    dtype,
    transA: args.transA,
    transB: args.transB,
    batch,
    batchStrides: [m * k, args.bBatchStride, m * n],
    m,
    n,
    k,
    alpha: args.alpha,
    beta: args.beta,
    lowerOnly: false,
  });
  return false;
}

/** A matrix inside a buffer: elements from `offset` with leading dimension `ld`. */
export interface MatrixRegion {
  buffer: GPUBuffer;
  offset: number;
  ld: number;
}

interface ChunkedGemmArgs {
  a: MatrixRegion;
  b: MatrixRegion;
  c: MatrixRegion;
  bias: GPUBuffer | null;
  dtype: DType;
  transA: boolean;
  transB: boolean;
  batch: number;
  /** Elements between consecutive batches of A, B and C. */
  batchStrides: [number, number, number];
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** Skip output chunks that lie wholly above the diagonal (the caller needs only the lower triangle of C). */
  lowerOnly: boolean;
}

/**
 * Records the product with the tiled shader, one dispatch per chunk of M, N
 * and K. The steps shrink until the A, B and C windows of every chunk fit one
 * binding and its grid fits the workgroup limit. K chunks after the first add
 * into C (β = 1).
 */
function recordChunkedGemm(device: WebGpuDevice, args: ChunkedGemmArgs): void {
  const { dtype, m, n, k, batch } = args;
  const lda = args.a.ld;
  const ldb = args.b.ld;
  const ldc = args.c.ld;
  const limit = device.limits.maxStorageBufferBindingSize - STORAGE_OFFSET_ALIGNMENT;
  const bytes = bytesPerElement(dtype);
  const tile = chooseTile(m, n, batch);
  const { tileM, tileN } = tileShape(tile);
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  const bias = args.bias ?? dummyBias(device);

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
  const [aStride, bStride, cStride] = args.batchStrides;
  for (let p = 0; p < batch; p++) {
    const aBase = args.a.offset + p * aStride;
    const bBase = args.b.offset + p * bStride;
    const cBase = args.c.offset + p * cStride;
    for (let m0 = 0; m0 < m; m0 += mStep) {
      const mCount = Math.min(mStep, m - m0);
      for (let n0 = 0; n0 < n; n0 += nStep) {
        const nCount = Math.min(nStep, n - n0);
        if (args.lowerOnly && n0 >= m0 + mCount) continue;
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

/**
 * Records C = α·op(A)·op(B) + β·C on f32 sub-matrices of buffers of any size,
 * split into binding-sized windows. C's buffer must differ from A's and B's,
 * because WebGPU rejects a writable binding that aliases another. With
 * `lowerOnly`, chunks wholly above the diagonal of C are skipped.
 */
export function recordGemmRegion(
  device: WebGpuDevice,
  args: { a: MatrixRegion; b: MatrixRegion; c: MatrixRegion; m: number; n: number; k: number; transA: boolean; transB: boolean; alpha: number; beta: number; lowerOnly?: boolean },
): void {
  if (args.m === 0 || args.n === 0) return;
  recordChunkedGemm(device, { ...args, bias: null, dtype: 'f32', batch: 1, batchStrides: [0, 0, 0], lowerOnly: args.lowerOnly === true });
}
