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

/** Builds Y = −X22·(L21·X11), the off-diagonal block of the inverse of [[L11, 0], [L21, L22]]. */
function buildOffDiagonalInverse(): Uint8Array {
  const graph = new GraphBuilder('triangular_inverse_off_diagonal');
  graph.input('X22', ['p', 'p'], OnnxDataType.DOUBLE);
  graph.input('L21', ['p', 'q'], OnnxDataType.DOUBLE);
  graph.input('X11', ['q', 'q'], OnnxDataType.DOUBLE);
  graph.node('Gemm', ['L21', 'X11'], {}, ['T']);
  graph.node('Gemm', ['X22', 'T'], { alpha: { float: -1 } }, ['Y']);
  graph.output('Y', ['p', 'q'], OnnxDataType.DOUBLE);
  return graph.build();
}

/** Copies rows [r0, r0 + rows) × columns [c0, c0 + cols) of a row-major n×n matrix into a dense array. */
function copyBlock(source: Float64Array, n: number, r0: number, c0: number, rows: number, cols: number): Float64Array {
  const block = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) block.set(source.subarray((r0 + r) * n + c0, (r0 + r) * n + c0 + cols), r * cols);
  return block;
}

function pasteBlock(target: Float64Array, n: number, r0: number, c0: number, rows: number, cols: number, block: Float64Array): void {
  for (let r = 0; r < rows; r++) target.set(block.subarray(r * cols, r * cols + cols), (r0 + r) * n + c0);
}

/**
 * Writes the inverse of the diagonal block L[r0:r0+size, r0:r0+size] into the
 * same place of `inverse`, splitting in halves: with L = [[L11, 0], [L21, L22]],
 * L⁻¹ = [[X11, 0], [−X22·L21·X11, X22]] where X11 = L11⁻¹ and X22 = L22⁻¹.
 * The two products run in onnxruntime. They ignore the zero upper triangles,
 * so the routine does about 2d³/3 flops instead of d³/3, all in Gemm.
 */
async function invertLowerBlock(l: Float64Array, inverse: Float64Array, n: number, r0: number, size: number, sessions: OrtSessionCache): Promise<void> {
  if (size <= BLOCK) {
    const diagonal = lowerTriangularInverseF64(copyBlock(l, n, r0, r0, size, size), size);
    pasteBlock(inverse, n, r0, r0, size, size, diagonal);
    return;
  }

  // Split at a multiple of BLOCK, so every leaf is a full block except possibly the last.
  const upper = Math.ceil(size / 2 / BLOCK) * BLOCK;
  const lower = size - upper;
  await invertLowerBlock(l, inverse, n, r0, upper, sessions);
  await invertLowerBlock(l, inverse, n, r0 + upper, lower, sessions);

  const [offDiagonal] = await sessions.runF64('triangular-inverse-off-diagonal-f64', buildOffDiagonalInverse, {
    X22: { data: copyBlock(inverse, n, r0 + upper, r0 + upper, lower, lower), dims: [lower, lower] },
    L21: { data: copyBlock(l, n, r0 + upper, r0, lower, upper), dims: [lower, upper] },
    X11: { data: copyBlock(inverse, n, r0, r0, upper, upper), dims: [upper, upper] },
  });
  pasteBlock(inverse, n, r0 + upper, r0, lower, upper, offDiagonal);
}

/** Computes L⁻¹ of a lower-triangular L (only its lower triangle is read), blocked for d ≥ 2·BLOCK. */
export async function lowerTriangularInverseBlockedF64(l: ArrayLike<number>, n: number, sessions: OrtSessionCache): Promise<Float64Array> {
  if (n < 2 * BLOCK) return lowerTriangularInverseF64(l, n);
  const source = Float64Array.from(l as ArrayLike<number>);
  const inverse = new Float64Array(n * n);
  await invertLowerBlock(source, inverse, n, 0, n, sessions);
  return inverse;
}

/** Computes (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹, with the blocked triangular inverse and the product in onnxruntime (float64 Gemm). */
export async function choleskyInverseBlockedF64(l: ArrayLike<number>, n: number, sessions: OrtSessionCache): Promise<Float64Array> {
  const inverseFactor = await lowerTriangularInverseBlockedF64(l, n, sessions);
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
