/**
 * Public ops: thin typed wrappers over `runKernel`. Each op validates nothing
 * itself; the device kernels do, so the checks live next to the code that
 * depends on them. All ops return new tensors and leave their inputs intact.
 */
import type { DType } from './dtype.js';
import { runKernel } from './kernels/registry.js';
import type { Tensor } from './tensor.js';

export interface MatmulOptions {
  /** Use Aᵀ: A is stored as [..., K, M]. */
  transA?: boolean;
  /** Use Bᵀ: B is stored as [..., N, K]. */
  transB?: boolean;
  /** Bias of shape [N], added to every output row. */
  bias?: Tensor;
}

/**
 * Matrix product of the last two dimensions. Leading (batch) dimensions of A
 * and B must be equal, or B may be 2-D and is then shared by every batch.
 * f16 inputs are multiplied with f32 accumulation and give an f16 result.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const inputs = options.bias ? [a, b, options.bias] : [a, b];
  return runKernel('matmul', inputs, { transA: options.transA ?? false, transB: options.transB ?? false })[0];
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min'];

export type UnaryOp = 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'square' | 'reciprocal' | 'relu' | 'sigmoid' | 'tanh' | 'silu';
export const UNARY_OPS: readonly UnaryOp[] = ['neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'relu', 'sigmoid', 'tanh', 'silu'];

/** Elementwise binary op with NumPy broadcasting; both inputs must have the same dtype. */
export function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  return runKernel('binary', [a, b], { op })[0];
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);

export function unary(op: UnaryOp, x: Tensor): Tensor {
  return runKernel('unary', [x], { op })[0];
}

/** `x · scale + offset` elementwise, with scalars given as numbers. */
export function affine(x: Tensor, scale: number, offset = 0): Tensor {
  return runKernel('affine', [x], { scale, offset })[0];
}

export type ReduceOp = 'sum' | 'max' | 'meanSquare';
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max', 'meanSquare'];

/** Reduces the last dimension: [..., n] → [...]. `meanSquare` is mean(x²), as RMSNorm needs. */
export function reduceRows(op: ReduceOp, x: Tensor): Tensor {
  return runKernel('reduceRows', [x], { op })[0];
}

export const sumRows = (x: Tensor): Tensor => reduceRows('sum', x);
export const maxRows = (x: Tensor): Tensor => reduceRows('max', x);
export const meanSquareRows = (x: Tensor): Tensor => reduceRows('meanSquare', x);

/** Swaps the last two dimensions (a copy, not a view). */
export function transpose(x: Tensor): Tensor {
  return runKernel('transpose', [x])[0];
}

/** Copies a tensor, optionally converting its dtype (f32 ↔ f16 rounds to nearest even). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return runKernel('cast', [x], { dtype })[0];
}

export function copy(x: Tensor): Tensor {
  return runKernel('cast', [x], { dtype: x.dtype })[0];
}

/** Same data with a new shape of equal size (a copy on every device, for simple lifetimes). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return runKernel('reshape', [x], { shape: [...shape] })[0];
}

/** Σ over rows of x², one value per column: [rows, d] → [d] (f32). */
export function columnSumSquares(x: Tensor): Tensor {
  return runKernel('columnSumSquares', [x])[0];
}
