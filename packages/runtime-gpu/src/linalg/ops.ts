/**
 * Dense symmetric positive-definite linear algebra on tensors. The cpu device
 * computes in f64 and stores f32 results; the webgpu device runs a blocked
 * f32 algorithm. The ops are async because they read a small status result
 * back to raise NotPositiveDefiniteError when a pivot is not positive.
 */
import { NotPositiveDefiniteError } from '../errors.js';
import { runKernel } from '../kernels/registry.js';
import type { Tensor } from '../tensor.js';

/** SparseGPT's default damping fraction: λ = 0.01 · mean(diag H). */
export const DEFAULT_PERCDAMP = 0.01;

/**
 * Checks a kernel's status tensor ([-1, 0] on success, else [pivot index,
 * pivot value]), disposing it, and raises NotPositiveDefiniteError on failure.
 */
async function checkStatus(op: string, input: Tensor, result: Tensor, status: Tensor): Promise<Tensor> {
  const [index, value] = await status.read();
  status.dispose();
  if (index >= 0) {
    result.dispose();
    throw new NotPositiveDefiniteError(
      `${op}: ${input.describe()} is not positive definite (pivot ${index} is ${value}); add damping or check for dead input columns`,
      index,
      value,
    );
  }
  return result;
}

/** Lower Cholesky factor L of a symmetric positive-definite [d, d] matrix, A = L·Lᵀ (only A's lower triangle is read). */
export async function cholesky(a: Tensor): Promise<Tensor> {
  const [l, status] = runKernel('cholesky', [a]);
  return checkStatus('cholesky', a, l, status);
}

/** (L·Lᵀ)⁻¹ from a lower Cholesky factor L, like torch.cholesky_inverse. */
export function choleskyInverse(l: Tensor): Tensor {
  return runKernel('choleskyInverse', [l])[0];
}

/**
 * Computes the upper factor U with UᵀU = (H + λI)⁻¹, λ = percdamp · mean(diag H),
 * as chol(cholesky_inverse(chol(H + λI)), upper). SparseGPT's column loop reads this factor.
 */
export async function inverseHessianFactor(h: Tensor, percdamp = DEFAULT_PERCDAMP): Promise<Tensor> {
  const [u, status] = runKernel('inverseHessianFactor', [h], { percdamp });
  return checkStatus('inverseHessianFactor', h, u, status);
}
