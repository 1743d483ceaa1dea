/**
 * Float64 dense linear algebra for the statistics and SparseGPT: Cholesky,
 * triangular inverse and the upper factor of the inverse Hessian. These are
 * the reference path; large layers pass a faster `GemmBackend` for the
 * products, which dominate the cost.
 */
import { SculptError } from '@sculpt/core';

/** Raised when a Cholesky factorization meets a non-positive pivot. */
export class NotPositiveDefiniteError extends SculptError {
  constructor(
    readonly pivotIndex: number,
    readonly pivotValue: number,
  ) {
    super(`matrix is not positive definite: pivot ${pivotIndex} is ${pivotValue}`);
  }
}

/**
 * C ← C − A·B where A is m×k (row stride `lda`), B is k×n (row stride `ldb`)
 * and C is m×n (row stride `ldc`), all views into flat f64 arrays (C may be
 * f32, as a float32 Hessian is). A backend may use a faster multiplier; the
 * result must match this f64 loop to f32 accuracy at least.
 */
export interface GemmBackend {
  subtractProduct(
    m: number,
    n: number,
    k: number,
    a: Float64Array,
    aOffset: number,
    lda: number,
    b: Float64Array,
    bOffset: number,
    ldb: number,
    c: Float32Array | Float64Array,
    cOffset: number,
    ldc: number,
  ): void | Promise<void>;
}

/** Plain f64 triple loop in i-k-j order so the inner loop runs over contiguous memory. */
export const referenceGemm: GemmBackend = {
  subtractProduct(m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc) {
    for (let i = 0; i < m; i++) {
      const cRow = cOffset + i * ldc;
      const aRow = aOffset + i * lda;
      for (let p = 0; p < k; p++) {
        const factor = a[aRow + p];
        if (factor === 0) continue;
        const bRow = bOffset + p * ldb;
        for (let j = 0; j < n; j++) c[cRow + j] -= factor * b[bRow + j];
      }
    }
  },
};

/**
 * In-place lower Cholesky factor of a symmetric n×n matrix stored row-major:
 * on return the lower triangle contains L with L·Lᵀ = A and the strict upper
 * triangle is zeroed. Right-looking and blocked so the trailing update is a
 * matrix product handed to `gemm`.
 */
export async function choleskyLower(a: Float64Array, n: number, gemm: GemmBackend = referenceGemm, blockSize = 64): Promise<void> {
  const panelT = new Float64Array(blockSize * n);

  for (let k0 = 0; k0 < n; k0 += blockSize) {
    const k1 = Math.min(n, k0 + blockSize);
    const width = k1 - k0;

    // Unblocked factorization of the diagonal block and the panel below it.
    for (let j = k0; j < k1; j++) {
      let pivot = a[j * n + j];
      for (let p = k0; p < j; p++) pivot -= a[j * n + p] * a[j * n + p];
      if (!(pivot > 0)) throw new NotPositiveDefiniteError(j, pivot);
      const diagonal = Math.sqrt(pivot);
      a[j * n + j] = diagonal;
      for (let i = j + 1; i < n; i++) {
        let value = a[i * n + j];
        for (let p = k0; p < j; p++) value -= a[i * n + p] * a[j * n + p];
        a[i * n + j] = value / diagonal;
      }
    }

    // Trailing update A[k1:, k1:] −= P·Pᵀ with P = L[k1:, k0:k1]. Only the lower
    // triangle is needed, but a full square product keeps the gemm simple.
    const rest = n - k1;
    if (rest > 0) {
      for (let p = 0; p < width; p++) {
        for (let i = 0; i < rest; i++) panelT[p * rest + i] = a[(k1 + i) * n + k0 + p];
      }
      await gemm.subtractProduct(rest, rest, width, a, k1 * n + k0, n, panelT, 0, rest, a, k1 * n + k1, n);
    }
  }

  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) a[i * n + j] = 0;
}

/**
 * Inverts in place a lower-triangular n×n matrix whose strict upper triangle
 * is zero. It recurses on halves: L = [A 0; C B] gives
 * L⁻¹ = [A⁻¹ 0; −B⁻¹·C·A⁻¹ B⁻¹], so almost all the work is two products per
 * level handed to `gemm`. A column-by-column substitution strides by n through
 * memory, and at 4096 inputs that took most of SparseGPT's time.
 */
export async function invertLowerTriangular(l: Float64Array, n: number, gemm: GemmBackend = referenceGemm, leafSize = 64): Promise<void> {
  const scratch = new Float64Array(Math.ceil(n / 2) * Math.floor(n / 2));
  await invertDiagonalBlock(l, n, 0, n, gemm, leafSize, scratch);
}

async function invertDiagonalBlock(l: Float64Array, n: number, start: number, size: number, gemm: GemmBackend, leafSize: number, scratch: Float64Array): Promise<void> {
  if (size <= leafSize) {
    invertLeaf(l, n, start, size);
    return;
  }
  const upperSize = size >> 1;
  const lowerSize = size - upperSize;
  const a = start * n + start;
  const b = (start + upperSize) * n + start + upperSize;
  const c = (start + upperSize) * n + start;
  await invertDiagonalBlock(l, n, start, upperSize, gemm, leafSize, scratch);
  await invertDiagonalBlock(l, n, start + upperSize, lowerSize, gemm, leafSize, scratch);

  // scratch = C·A⁻¹ (the gemm subtracts, so start from zero and negate).
  const product = scratch.subarray(0, lowerSize * upperSize);
  product.fill(0);
  await gemm.subtractProduct(lowerSize, upperSize, upperSize, l, c, n, l, a, n, product, 0, upperSize);
  for (let i = 0; i < product.length; i++) product[i] = -product[i];

  // C ← 0 − B⁻¹·(C·A⁻¹).
  for (let i = 0; i < lowerSize; i++) l.fill(0, c + i * n, c + i * n + upperSize);
  await gemm.subtractProduct(lowerSize, upperSize, lowerSize, l, b, n, product, 0, upperSize, l, c, n);
}

/** Forward substitution on a small diagonal block, one row at a time so the inner loop is contiguous. */
function invertLeaf(l: Float64Array, n: number, start: number, size: number): void {
  const sums = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const row = (start + i) * n + start;
    sums.fill(0, 0, i);
    // Rows p < i already contain X = L⁻¹, and row i still contains L.
    for (let p = 0; p < i; p++) {
      const factor = l[row + p];
      if (factor === 0) continue;
      const inverseRow = (start + p) * n + start;
      for (let j = 0; j <= p; j++) sums[j] += factor * l[inverseRow + j];
    }
    const diagonal = l[row + i];
    for (let j = 0; j < i; j++) l[row + j] = -sums[j] / diagonal;
    l[row + i] = 1 / diagonal;
  }
}

/** Changes to A's diagonal made while it is copied, so the caller keeps A unchanged without a copy of its own. */
export interface DiagonalChanges {
  /** Added to every diagonal entry (SparseGPT's damping λ). */
  shift?: number;
  /** Indices whose diagonal entry is taken as 1 before the shift (SparseGPT's dead input columns). */
  unitEntries?: readonly number[];
}

/**
 * Returns the upper-triangular U with Uᵀ·U = (A' + shift·I)⁻¹, where A' is A with the
 * `unitEntries` of its diagonal set to 1. This is the factor SparseGPT reads
 * its OBS updates from. Row j of U is the first row of (A[j:, j:])⁻¹ divided
 * by the square root of its first entry.
 *
 * Rather than invert A and factor again (two Cholesky factorizations and an
 * inverse), this factors the index-reversed matrix J·A·J = L'·L'ᵀ: then
 * A = R·Rᵀ with R = J·L'·J upper, and U = R⁻¹ = J·L'⁻¹·J. The two routes agree
 * to rounding. One n×n array is allocated (and returned); `a` is not changed.
 */
export async function inverseUpperCholesky(a: Float32Array | Float64Array, n: number, gemm: GemmBackend = referenceGemm, changes: DiagonalChanges = {}): Promise<Float64Array> {
  const work = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) work[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)];
  for (const j of changes.unitEntries ?? []) work[(n - 1 - j) * n + (n - 1 - j)] = 1;
  for (let j = 0; j < n; j++) work[j * n + j] += changes.shift ?? 0;

  await choleskyLower(work, n, gemm);
  await invertLowerTriangular(work, n, gemm);

  // Reverse both indices in place: entry k and entry n²−1−k trade places.
  for (let k = 0, last = n * n - 1; k < last - k; k++) {
    const value = work[k];
    work[k] = work[last - k];
    work[last - k] = value;
  }
  return work;
}

/** Dense inverse of a symmetric positive-definite matrix (small sizes: tests and naive references). */
export async function invertSpd(a: Float64Array, n: number): Promise<Float64Array> {
  const l = Float64Array.from(a);
  await choleskyLower(l, n);
  await invertLowerTriangular(l, n);
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = Math.max(i, j); p < n; p++) sum += l[p * n + i] * l[p * n + j];
      inverse[i * n + j] = sum;
    }
  }
  return inverse;
}
