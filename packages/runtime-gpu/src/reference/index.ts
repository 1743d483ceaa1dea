/**
 * Float64 reference implementations of every kernel, written for clarity,
 * not speed. Tests compare each device's output with these.
 */
import type { BinaryOp, ReduceOp, UnaryOp } from '../ops.js';
import { broadcastShapes, broadcastStrides, shapeSize, type Shape } from '../shape.js';

export { choleskyF64 as cholesky, choleskyInverseF64 as choleskyInverse, inverseHessianFactorF64 as inverseHessianFactor } from '../linalg/cholesky-f64.js';

export interface MatmulReferenceArgs {
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  /** Batch count of A; B is shared when `batchB` is 1. */
  batch: number;
  batchB: number;
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
  bias?: ArrayLike<number>;
}

export function matmul(args: MatmulReferenceArgs): Float64Array {
  const { a, b, batch, batchB, m, k, n } = args;
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const offsetA = p * m * k;
    const offsetB = (batchB === 1 ? 0 : p) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = args.bias ? args.bias[j] : 0;
        for (let t = 0; t < k; t++) {
          const av = args.transA ? a[offsetA + t * m + i] : a[offsetA + i * k + t];
          const bv = args.transB ? b[offsetB + j * k + t] : b[offsetB + t * n + j];
          sum += av * bv;
        }
        out[p * m * n + i * n + j] = sum;
      }
    }
  }
  return out;
}

export function binaryScalar(op: BinaryOp, x: number, y: number): number {
  switch (op) {
    case 'add':
      return x + y;
    case 'sub':
      return x - y;
    case 'mul':
      return x * y;
    case 'div':
      return x / y;
    case 'max':
      return Math.max(x, y);
    case 'min':
      return Math.min(x, y);
  }
}

export function unaryScalar(op: UnaryOp, x: number): number {
  switch (op) {
    case 'neg':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'rsqrt':
      return 1 / Math.sqrt(x);
    case 'square':
      return x * x;
    case 'reciprocal':
      return 1 / x;
    case 'relu':
      return x > 0 ? x : 0;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'silu':
      return x / (1 + Math.exp(-x));
  }
}

export function binary(op: BinaryOp, a: ArrayLike<number>, shapeA: Shape, b: ArrayLike<number>, shapeB: Shape): { data: Float64Array; shape: number[] } {
  const shape = broadcastShapes(shapeA, shapeB, op);
  const stridesA = broadcastStrides(shapeA, shape);
  const stridesB = broadcastStrides(shapeB, shape);
  const size = shapeSize(shape);
  const data = new Float64Array(size);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < size; flat++) {
    let offsetA = 0;
    let offsetB = 0;
    for (let d = 0; d < shape.length; d++) {
      offsetA += index[d] * stridesA[d];
      offsetB += index[d] * stridesB[d];
    }
    data[flat] = binaryScalar(op, a[offsetA], b[offsetB]);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return { data, shape };
}

export function unary(op: UnaryOp, x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x as ArrayLike<number>, (value) => unaryScalar(op, value));
}

export function reduceRows(op: ReduceOp, x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = op === 'max' ? -Infinity : 0;
    for (let c = 0; c < cols; c++) {
      const value = x[r * cols + c];
      if (op === 'sum') acc += value;
      else if (op === 'max') acc = Math.max(acc, value);
      else acc += value * value;
    }
    out[r] = op === 'meanSquare' ? acc / cols : acc;
  }
  return out;
}

export function transpose(x: ArrayLike<number>, batch: number, rows: number, cols: number): Float64Array {
  const out = new Float64Array(batch * rows * cols);
  for (let p = 0; p < batch; p++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[p * rows * cols + c * rows + r] = x[p * rows * cols + r * cols + c];
    }
  }
  return out;
}

export function columnSumSquares(x: ArrayLike<number>, rows: number, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < d; c++) out[c] += x[r * d + c] * x[r * d + c];
  }
  return out;
}

/** Closed-form Hessian (2/samples)·XᵀX for X of shape [rows, d]. */
export function hessian(x: ArrayLike<number>, rows: number, d: number, samples: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < d; i++) {
      const xi = x[r * d + i];
      for (let j = 0; j < d; j++) out[i * d + j] += xi * x[r * d + j];
    }
  }
  for (let i = 0; i < out.length; i++) out[i] *= 2 / samples;
  return out;
}

/** Closed-form Wanda scaler Σ_rows x² / samples, per column. */
export function wandaScaler(x: ArrayLike<number>, rows: number, d: number, samples: number): Float64Array {
  return columnSumSquares(x, rows, d).map((value) => value / samples);
}
