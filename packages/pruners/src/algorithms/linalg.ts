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
 * and C is m×n (row stride `ldc`), all views into flat f64 arrays. A backend
 * may use a faster multiplier; the result must match this f64 loop to f32
 * accuracy at least.
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
    c: Float64Array,
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

/** In-place inverse of a lower-triangular n×n matrix (forward substitution, column by column). */
export function invertLowerTriangular(l: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    l[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let sum = 0;
      for (let p = j; p < i; p++) sum += l[i * n + p] * l[p * n + j];
      l[i * n + j] = -sum / l[i * n + i];
    }
  }
}

/**
 * Upper-triangular U with Uᵀ·U = A⁻¹, the factor SparseGPT reads its OBS
 * updates from. Row j of U is the first row of (A[j:, j:])⁻¹ divided by the
 * square root of its first entry.
 *
 * Rather than invert A and factor again (two Cholesky factorizations and an
 * inverse), this factors the index-reversed matrix J·A·J = L'·L'ᵀ: then
 * A = R·Rᵀ with R = J·L'·J upper, and U = R⁻¹ = J·L'⁻¹·J. The two routes agree
 * to rounding.
 */
export async function inverseUpperCholesky(a: Float64Array, n: number, gemm: GemmBackend = referenceGemm): Promise<Float64Array> {
  const reversed = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) reversed[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)];

  await choleskyLower(reversed, n, gemm);
  invertLowerTriangular(reversed, n);

  const upper = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) upper[i * n + j] = reversed[(n - 1 - i) * n + (n - 1 - j)];
  return upper;
}

/** Dense inverse of a symmetric positive-definite matrix (small sizes: tests and naive references). */
export async function invertSpd(a: Float64Array, n: number): Promise<Float64Array> {
  const l = Float64Array.from(a);
  await choleskyLower(l, n);
  invertLowerTriangular(l, n);
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
