/**
 * Float64 Cholesky routines on row-major n×n arrays. The cpu device runs its
 * linalg kernels through these, and tests use them as the reference.
 */
import { NotPositiveDefiniteError } from '../errors.js';

/**
 * Lower factor L with A = L·Lᵀ (only the lower triangle of A is read).
 * Raises NotPositiveDefiniteError at the first pivot that is not positive.
 */
export function choleskyF64(a: ArrayLike<number>, n: number, context = 'cholesky'): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;

    let pivot = a[rowJ + j];
    for (let k = 0; k < j; k++) pivot -= l[rowJ + k] * l[rowJ + k];
    if (!(pivot > 0) || !Number.isFinite(pivot)) {
      throw new NotPositiveDefiniteError(
        `${context}: the ${n}×${n} matrix is not positive definite (pivot ${j} is ${pivot}); add damping or check for dead input columns`,
        j,
        pivot,
      );
    }
    const diagonal = Math.sqrt(pivot);
    l[rowJ + j] = diagonal;

    // Column j below the diagonal: rows of L are contiguous, so each entry is one dot product.
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let sum = a[rowI + j];
      let k = 0;
      for (; k + 3 < j; k += 4) {
        sum -=
          l[rowI + k] * l[rowJ + k] +
          l[rowI + k + 1] * l[rowJ + k + 1] +
          l[rowI + k + 2] * l[rowJ + k + 2] +
          l[rowI + k + 3] * l[rowJ + k + 3];
      }
      for (; k < j; k++) sum -= l[rowI + k] * l[rowJ + k];
      l[rowI + j] = sum / diagonal;
    }
  }
  return l;
}

/** Inverse of a lower-triangular matrix (lower-triangular result), by forward substitution. */
export function lowerTriangularInverseF64(l: ArrayLike<number>, n: number): Float64Array {
  const inverse = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inverse[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum += l[i * n + k] * inverse[k * n + j];
      inverse[i * n + j] = -sum / l[i * n + i];
    }
  }
  return inverse;
}

/** (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹ from a lower Cholesky factor, symmetric result. */
export function choleskyInverseF64(l: ArrayLike<number>, n: number): Float64Array {
  const m = lowerTriangularInverseF64(l, n);
  const result = new Float64Array(n * n);
  // (M^T M)[i][j] = Σ_k M[k][i]·M[k][j], with M lower, so k ≥ max(i, j).
  for (let k = 0; k < n; k++) {
    const rowK = k * n;
    for (let i = 0; i <= k; i++) {
      const mki = m[rowK + i];
      if (mki === 0) continue;
      const rowI = i * n;
      for (let j = i; j <= k; j++) result[rowI + j] += mki * m[rowK + j];
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) result[j * n + i] = result[i * n + j];
  }
  return result;
}

/** Upper factor U = Lᵀ with A = Uᵀ·U, as torch.linalg.cholesky(A, upper=True). */
export function upperCholeskyF64(a: ArrayLike<number>, n: number, context = 'cholesky'): Float64Array {
  const l = choleskyF64(a, n, context);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) u[j * n + i] = l[i * n + j];
  }
  return u;
}

/** Mean of the diagonal, times `percdamp`: SparseGPT's damping λ. */
export function dampingF64(h: ArrayLike<number>, n: number, percdamp: number): number {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += h[i * n + i];
  return (percdamp * trace) / n;
}

/**
 * SparseGPT's inverse-Hessian factor: U upper-triangular with
 * UᵀU = (H + λI)⁻¹, λ = percdamp · mean(diag H), computed as
 * chol(cholesky_inverse(chol(H + λI)), upper).
 */
export function inverseHessianFactorF64(h: ArrayLike<number>, n: number, percdamp: number): Float64Array {
  const lambda = dampingF64(h, n, percdamp);
  const damped = Float64Array.from(h as ArrayLike<number>);
  for (let i = 0; i < n; i++) damped[i * n + i] += lambda;
  const l = choleskyF64(damped, n, 'inverseHessianFactor');
  const inverse = choleskyInverseF64(l, n);
  return upperCholeskyF64(inverse, n, 'inverseHessianFactor (factor of the inverse)');
}
