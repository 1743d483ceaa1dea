/**
 * Blocked float64 Cholesky routines for the cpu device. Diagonal blocks and
 * panels are solved in TypeScript, and the O(d³) trailing updates and
 * products run as float64 Gemm/MatMul in onnxruntime-node. Results equal the
 * unblocked routines of linalg/cholesky-f64.ts up to rounding.
 */
import { NotPositiveDefiniteError } from '../errors.js';
import { choleskyF64, dampingF64, lowerTriangularInverseF64 } from '../linalg/cholesky-f64.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { OnnxDataType } from '../onnx/schema.js';
import type { OrtSessionCache } from './ort-sessions.js';

/** Block width. Below two blocks the unblocked routine runs instead, estimating that session round trips outweigh the gain there. */
const BLOCK = 128;

function buildTrailingUpdate(): Uint8Array {
  const graph = new GraphBuilder('cholesky_trailing_update');
  graph.input('P', ['rows', 'width'], OnnxDataType.DOUBLE);
  graph.input('C', ['rows', 'rows'], OnnxDataType.DOUBLE);
  graph.node('Gemm', ['P', 'P', 'C'], { transB: 1, alpha: { float: -1 }, beta: { float: 1 } }, ['Y']);
  graph.output('Y', ['rows', 'rows'], OnnxDataType.DOUBLE);
  return graph.build();
}

function buildTransposedProduct(): Uint8Array {
  const graph = new GraphBuilder('transposed_product');
  graph.input('M', ['n', 'n'], OnnxDataType.DOUBLE);
  graph.node('Gemm', ['M', 'M'], { transA: 1 }, ['Y']);
  graph.output('Y', ['n', 'n'], OnnxDataType.DOUBLE);
  return graph.build();
}

/** Computes the lower factor L with A = L·Lᵀ. Raises NotPositiveDefiniteError with the global pivot index. */
export async function choleskyBlockedF64(a: ArrayLike<number>, n: number, sessions: OrtSessionCache, context = 'cholesky'): Promise<Float64Array> {
  if (n < 2 * BLOCK) return choleskyF64(a, n, context);
  const work = Float64Array.from(a as ArrayLike<number>);

  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const jb = Math.min(BLOCK, n - j0);
    const j1 = j0 + jb;

    // 1. Factor the diagonal block.
    const block = new Float64Array(jb * jb);
    for (let i = 0; i < jb; i++) block.set(work.subarray((j0 + i) * n + j0, (j0 + i) * n + j0 + jb), i * jb);
    let factor: Float64Array;
    try {
      factor = choleskyF64(block, jb, context);
    } catch (error) {
      if (!(error instanceof NotPositiveDefiniteError)) throw error;
      const pivot = j0 + error.pivotIndex;
      throw new NotPositiveDefiniteError(
        `${context}: the ${n}×${n} matrix is not positive definite (pivot ${pivot} is ${error.pivotValue}); add damping or check for dead input columns`,
        pivot,
        error.pivotValue,
      );
    }
    for (let i = 0; i < jb; i++) work.set(factor.subarray(i * jb, i * jb + jb), (j0 + i) * n + j0);
    if (j1 >= n) break;

    // 2. Solve the panel below it: row r of L21 solves x·L11ᵀ = A21[r].
    const rows = n - j1;
    const panel = new Float64Array(rows * jb);
    for (let r = 0; r < rows; r++) {
      const rowStart = (j1 + r) * n + j0;
      for (let c = 0; c < jb; c++) {
        let x = work[rowStart + c];
        for (let s = 0; s < c; s++) x -= panel[r * jb + s] * factor[c * jb + s];
        panel[r * jb + c] = x / factor[c * jb + c];
      }
      work.set(panel.subarray(r * jb, r * jb + jb), rowStart);
    }

    // 3. Trailing update A22 -= L21·L21ᵀ in onnxruntime (float64 Gemm).
    const trailing = new Float64Array(rows * rows);
    for (let r = 0; r < rows; r++) trailing.set(work.subarray((j1 + r) * n + j1, (j1 + r) * n + n), r * rows);
    const [updated] = await sessions.runF64('cholesky-trailing-update-f64', buildTrailingUpdate, {
      P: { data: panel, dims: [rows, jb] },
      C: { data: trailing, dims: [rows, rows] },
    });
    for (let r = 0; r < rows; r++) work.set(updated.subarray(r * rows, r * rows + rows), (j1 + r) * n + j1);
  }

  // Zero the strict upper triangle, which still contains parts of A.
  for (let i = 0; i < n; i++) work.fill(0, i * n + i + 1, (i + 1) * n);
  return work;
}

/** Computes (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹, with the product in onnxruntime (float64 Gemm). */
export async function choleskyInverseBlockedF64(l: ArrayLike<number>, n: number, sessions: OrtSessionCache): Promise<Float64Array> {
  // TODO: block the triangular inverse too; it is O(d³/6) in TypeScript and dominates for large d.
  const inverseFactor = lowerTriangularInverseF64(l, n);
  const [product] = await sessions.runF64('transposed-product-f64', buildTransposedProduct, { M: { data: inverseFactor, dims: [n, n] } });
  return product;
}

/** Computes SparseGPT's factor U with UᵀU = (H + λI)⁻¹, as in linalg/cholesky-f64.ts, with blocked steps. */
export async function inverseHessianFactorBlockedF64(h: ArrayLike<number>, n: number, percdamp: number, sessions: OrtSessionCache): Promise<Float64Array> {
  const lambda = dampingF64(h, n, percdamp);
  const damped = Float64Array.from(h as ArrayLike<number>);
  for (let i = 0; i < n; i++) damped[i * n + i] += lambda;
  const l = await choleskyBlockedF64(damped, n, sessions, 'inverseHessianFactor');
  const inverse = await choleskyInverseBlockedF64(l, n, sessions);
  const lowerOfInverse = await choleskyBlockedF64(inverse, n, sessions, 'inverseHessianFactor (factor of the inverse)');
  const upper = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) upper[j * n + i] = lowerOfInverse[i * n + j];
  }
  return upper;
}
