/**
 * SparseGPT (Frantar & Alistarh, 2023) as the reference `fasterprune` runs it.
 * The columns are processed in blocks of width B. Each block gets an adaptive
 * mask (or N:M groups chosen as the column loop reaches them, or a fixed mask
 * from the caller), sequential OBS updates inside the block, and a lazy batch
 * update of the columns to its right.
 *
 * The result is not the masked least-squares optimum: weights to the left of a
 * pruned column are never revisited. That is the algorithm, not a bug.
 */
import { getLogger, InputError, UsageError } from '@sculpt/core';
import { inverseHessianFactor, NotPositiveDefiniteError as DeviceNotPositiveDefiniteError, type Device } from '@sculpt/runtime-gpu';
import { NotPositiveDefiniteError, inverseUpperCholesky, referenceGemm, type GemmBackend } from './linalg.js';
import { assertSameShape, emptyMask, kthSmallest, type Mask, type Matrix } from './matrix.js';
import { checkNMShape, selectGroup, type NMPattern } from './selectors.js';

const log = getLogger('pruners:sparsegpt');

export interface SparseGptOptions {
  sparsity: number;
  pattern?: NMPattern;
  /** Column block width; 128 in every reference. The unstructured mask depends on it. */
  blockSize?: number;
  /** Damping λ = percdamp · mean(diag H); SparseGPT's default is 0.01. */
  percdamp?: number;
  /** Keep this mask instead of choosing one (Wanda mask + OBS update, RIA reconstruction). */
  fixedMask?: Mask;
  /**
   * Damping multipliers tried in turn when H + λI is not positive definite.
   * After the last one fails, the layer falls back to U = I (no update,
   * magnitude-like selection) with a logged warning, as llm-compressor does.
   */
  dampingRetries?: readonly number[];
  gemm?: GemmBackend;
  /**
   * Updates `weight.data` in place when it is float64, instead of working on a
   * copy. Pruners pass this for the float64 weight copy the pipeline gives them.
   */
  overwriteWeight?: boolean;
  /**
   * Computes the inverse-Hessian factor with the runtime's `inverseHessianFactor`
   * on this device (float32 result) instead of the float64 host Cholesky.
   */
  factorDevice?: Device;
}

export interface SparseGptResult {
  weight: Matrix<Float64Array>;
  mask: Mask;
  /** Σ OBS saliency w_q² / (2·[H_{q:,q:}⁻¹]₀₀) over pruned weights, the logged error. */
  loss: number;
  /** Columns whose input was always zero, pruned outright. */
  deadColumns: number;
  /** The damping fraction that succeeded, or null when the identity fallback was used. */
  percdampUsed: number | null;
}

const DEFAULT_RETRIES = [10, 100, 1000];

/** Prunes a weight with SparseGPT given its Hessian H = (2/N)·XᵀX (`cols × cols`). */
export async function sparseGpt(weight: Matrix, hessian: Float32Array | Float64Array, options: SparseGptOptions): Promise<SparseGptResult> {
  const { rows, cols } = weight;
  const blockSize = options.blockSize ?? 128;
  const percdamp = options.percdamp ?? 0.01;
  const pattern = options.pattern;
  if (hessian.length !== cols * cols) {
    throw new InputError(`Hessian has ${hessian.length} entries but the weight has ${cols} inputs (expected ${cols * cols})`);
  }
  if (!(options.sparsity >= 0 && options.sparsity <= 1)) throw new UsageError(`sparsity must be between 0 and 1, got ${options.sparsity}`);
  if (!(blockSize >= 1)) throw new UsageError(`SparseGPT block size must be positive, got ${blockSize}`);
  if (pattern !== undefined) {
    checkNMShape(cols, pattern);
    if (blockSize % pattern.m !== 0) throw new UsageError(`block size ${blockSize} must be a multiple of M = ${pattern.m}`);
  }
  if (options.fixedMask !== undefined) assertSameShape(weight, options.fixedMask, 'fixed mask');

  const w = options.overwriteWeight && weight.data instanceof Float64Array ? weight.data : Float64Array.from(weight.data);

  // Dead inputs: a zero diagonal means input j was always zero. Its weights
  // cannot matter, so prune them and make H invertible there (H_jj = 1). The
  // caller's H is not copied: the factorization applies the change to its own copy.
  const deadColumns: number[] = [];
  let meanDiagonal = 0;
  for (let j = 0; j < cols; j++) {
    const diagonal = hessian[j * cols + j];
    if (diagonal === 0) {
      deadColumns.push(j);
      for (let r = 0; r < rows; r++) w[r * cols + j] = 0;
    }
    meanDiagonal += diagonal === 0 ? 1 : diagonal;
  }
  meanDiagonal /= cols;

  const factor = options.factorDevice === undefined ? hostFactor(meanDiagonal, deadColumns, options.gemm) : deviceFactor(options.factorDevice, deadColumns);
  const { upper, percdampUsed } = await factorWithRetries(hessian, cols, percdamp, options.dampingRetries ?? DEFAULT_RETRIES, factor);

  const mask = emptyMask(rows, cols);
  // Err1 of the current block (`rows × width`), written by the column loop and read by the lazy update.
  const blockErrors = new Float64Array(rows * blockSize);
  let loss = 0;
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    loss += pruneBlock(w, rows, cols, upper, i1, i2, mask.data, blockErrors, options, pattern);
    await lazyBatchUpdate(w, rows, cols, upper, i1, i2, blockErrors, options.gemm ?? referenceGemm);
  }

  return { weight: { rows, cols, data: w }, mask, loss, deadColumns: deadColumns.length, percdampUsed };
}

/** Returns U with Uᵀ·U = (H' + fraction·mean(diag H')·I)⁻¹ for H' = H with dead columns' diagonal set to 1, or raises a not-positive-definite error. */
type InverseFactor = (h: Float32Array | Float64Array, n: number, fraction: number) => Promise<Float64Array>;

function hostFactor(meanDiagonal: number, deadColumns: readonly number[], gemm: GemmBackend | undefined): InverseFactor {
  return async (h, n, fraction) => inverseUpperCholesky(h, n, gemm, { shift: fraction * meanDiagonal, unitEntries: deadColumns });
}

/** Factors on a runtime device. The runtime takes λ from the mean diagonal of the H it receives, the same dead-column-corrected H as the host path. */
function deviceFactor(device: Device, deadColumns: readonly number[]): InverseFactor {
  return async (h, n, fraction) => {
    const corrected = Float32Array.from(h);
    for (const j of deadColumns) corrected[j * n + j] = 1;
    const hessian = device.tensor(corrected, [n, n]);
    try {
      const upper = await inverseHessianFactor(hessian, fraction);
      try {
        return Float64Array.from(await upper.read());
      } finally {
        upper.dispose();
      }
    } finally {
      hessian.dispose();
    }
  };
}

function isNotPositiveDefinite(error: unknown): error is Error {
  return error instanceof NotPositiveDefiniteError || error instanceof DeviceNotPositiveDefiniteError;
}

/**
 * Dampens H and returns U with Uᵀ·U = (H + λI)⁻¹. On failure retries with
 * larger damping; as a last resort returns the identity so the layer is still
 * pruned (without updates) and the run continues.
 */
async function factorWithRetries(
  h: Float32Array | Float64Array,
  n: number,
  percdamp: number,
  retries: readonly number[],
  factor: InverseFactor,
): Promise<{ upper: Float64Array; percdampUsed: number | null }> {
  const attempts = [percdamp, ...retries.map((multiplier) => percdamp * multiplier)];
  for (const fraction of attempts) {
    try {
      const upper = await factor(h, n, fraction);
      if (fraction !== percdamp) log.warn(`Hessian needed damping ${fraction} instead of ${percdamp} to be positive definite`);
      return { upper, percdampUsed: fraction };
    } catch (error) {
      if (!isNotPositiveDefinite(error)) throw error;
      log.debug(() => `Cholesky failed at damping ${fraction}: ${error.message}`);
    }
  }
  log.warn(`Hessian is not positive definite even with damping ${attempts[attempts.length - 1]}; pruning this layer without OBS updates (U = I)`);
  const identity = new Float64Array(n * n);
  for (let j = 0; j < n; j++) identity[j * n + j] = 1;
  return { upper: identity, percdampUsed: null };
}

/** Selects the mask of block [i1, i2) and runs the sequential OBS column loop; returns the block's loss. */
function pruneBlock(
  w: Float64Array,
  rows: number,
  cols: number,
  upper: Float64Array,
  i1: number,
  i2: number,
  mask: Uint8Array,
  blockErrors: Float64Array,
  options: SparseGptOptions,
  pattern: NMPattern | undefined,
): number {
  const width = i2 - i1;
  const diagonal = new Float64Array(width);
  for (let i = 0; i < width; i++) diagonal[i] = upper[(i1 + i) * cols + i1 + i];

  if (options.fixedMask !== undefined) {
    for (let r = 0; r < rows; r++) for (let i = i1; i < i2; i++) mask[r * cols + i] = options.fixedMask.data[r * cols + i];
  } else if (pattern === undefined) {
    selectBlockAdaptive(w, rows, cols, diagonal, i1, i2, options.sparsity, mask);
  }

  const groupScores = new Float64Array(rows * (pattern?.m ?? 0));
  const err = new Float64Array(rows);
  let loss = 0;

  for (let i = 0; i < width; i++) {
    const j = i1 + i;
    const d = diagonal[i];

    // N:M groups are scored when the loop reaches them, with the already-updated weights.
    if (pattern !== undefined && options.fixedMask === undefined && i % pattern.m === 0) {
      for (let r = 0; r < rows; r++) {
        for (let g = 0; g < pattern.m; g++) {
          const value = w[r * cols + j + g];
          const u = diagonal[i + g];
          groupScores[r * pattern.m + g] = (value * value) / (u * u);
        }
      }
      const groupMask = new Uint8Array(rows * pattern.m);
      for (let r = 0; r < rows; r++) selectGroup(groupScores, r * pattern.m, 0, pattern, groupMask);
      for (let r = 0; r < rows; r++) for (let g = 0; g < pattern.m; g++) if (groupMask[r * pattern.m + g]) mask[r * cols + j + g] = 1;
    }

    // q = w with pruned entries zeroed; the error (w − q)/d is spread over the block's remaining columns.
    for (let r = 0; r < rows; r++) {
      const value = w[r * cols + j];
      if (mask[r * cols + j]) {
        err[r] = value / d;
        loss += (value * value) / (d * d) / 2;
      } else {
        err[r] = 0;
      }
    }
    const uRow = j * cols;
    for (let r = 0; r < rows; r++) {
      const e = err[r];
      if (e === 0) continue;
      const wRow = r * cols;
      for (let k = j; k < i2; k++) w[wRow + k] -= e * upper[uRow + k];
    }
    // Column j now equals q: pruned entries become exactly zero (w − (w/d)·d can leave rounding).
    for (let r = 0; r < rows; r++) if (mask[r * cols + j]) w[r * cols + j] = 0;

    for (let r = 0; r < rows; r++) blockErrors[r * width + i] = err[r];
  }
  return loss;
}

/** W[:, i2:] −= Err1 · U[i1:i2, i2:]. */
async function lazyBatchUpdate(
  w: Float64Array,
  rows: number,
  cols: number,
  upper: Float64Array,
  i1: number,
  i2: number,
  blockErrors: Float64Array,
  gemm: GemmBackend,
): Promise<void> {
  if (i2 >= cols) return;
  const width = i2 - i1;
  await gemm.subtractProduct(rows, cols - i2, width, blockErrors, 0, width, upper, i1 * cols + i2, cols, w, i2, cols);
}

/**
 * Adaptive mask selection: σ = W1²/U_jj² over the whole block (all rows
 * together), thr = sort(σ)[⌊numel·p⌋], prune σ ≤ thr.
 */
function selectBlockAdaptive(
  w: Float64Array,
  rows: number,
  cols: number,
  diagonal: Float64Array,
  i1: number,
  i2: number,
  sparsity: number,
  mask: Uint8Array,
): void {
  const width = i2 - i1;
  const scores = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) {
      const value = w[r * cols + i1 + i];
      scores[r * width + i] = (value * value) / (diagonal[i] * diagonal[i]);
    }
  }
  const index = Math.floor(scores.length * sparsity);
  const threshold = index >= scores.length ? Infinity : kthSmallest(scores, index);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) if (scores[r * width + i] <= threshold) mask[r * cols + i1 + i] = 1;
  }
}
