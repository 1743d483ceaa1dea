/**
 * Shape and dtype checks shared by the kernels of every device, so both
 * devices accept exactly the same inputs and word their errors alike.
 */
import type { DType } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape, shapeSize } from '../shape.js';
import type { Tensor } from '../tensor.js';

export function describeInputs(inputs: readonly Tensor[]): string {
  return inputs.map((tensor) => tensor.describe()).join(', ');
}

export function assertDTypes(op: string, inputs: readonly Tensor[], allowed: readonly DType[]): DType {
  const dtype = inputs[0].dtype;
  for (const input of inputs) {
    if (!allowed.includes(input.dtype)) {
      throw new DTypeError(`${op}: ${input.describe()} has dtype ${input.dtype}; expected ${allowed.join(' or ')}`);
    }
    if (input.dtype !== dtype) {
      throw new DTypeError(`${op}: inputs have different dtypes (${describeInputs(inputs)}); cast them to one dtype`);
    }
  }
  return dtype;
}

export function assertRank(op: string, tensor: Tensor, minRank: number, maxRank = Infinity): void {
  if (tensor.rank < minRank || tensor.rank > maxRank) {
    let expected = `${minRank} to ${maxRank}`;
    if (maxRank === Infinity) expected = `at least ${minRank}`;
    else if (minRank === maxRank) expected = `${minRank}`;
    throw new ShapeError(`${op}: ${tensor.describe()} has rank ${tensor.rank}; expected rank ${expected}`);
  }
}

export interface MatmulPlan {
  /** Number of [m, n] products; B is shared by all of them when `batchB` is 1. */
  batch: number;
  batchB: number;
  m: number;
  k: number;
  n: number;
  outShape: number[];
}

export function planMatmul(op: string, a: Tensor, b: Tensor, bias: Tensor | undefined, transA: boolean, transB: boolean): MatmulPlan {
  assertRank(op, a, 2);
  assertRank(op, b, 2);
  const [rowsA, colsA] = a.shape.slice(-2);
  const [rowsB, colsB] = b.shape.slice(-2);
  const m = transA ? colsA : rowsA;
  const k = transA ? rowsA : colsA;
  const kB = transB ? colsB : rowsB;
  const n = transB ? rowsB : colsB;
  const flags = `transA=${transA}, transB=${transB}`;

  if (k !== kB) {
    throw new ShapeError(`${op}: inner dimensions differ (${k} vs ${kB}) for ${a.describe()} × ${b.describe()} with ${flags}`);
  }

  const batchShapeA = a.shape.slice(0, -2);
  const batchShapeB = b.shape.slice(0, -2);
  if (b.rank > 2 && (batchShapeA.length !== batchShapeB.length || batchShapeA.some((dim, i) => dim !== batchShapeB[i]))) {
    throw new ShapeError(
      `${op}: batch dimensions ${formatShape(batchShapeA)} and ${formatShape(batchShapeB)} differ for ${a.describe()} × ${b.describe()}; B must have A's batch dimensions or be 2-D`,
    );
  }

  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== n)) {
    throw new ShapeError(`${op}: bias ${bias.describe()} must have shape [${n}] (the output width)`);
  }

  return {
    batch: shapeSize(batchShapeA),
    batchB: b.rank > 2 ? shapeSize(batchShapeB) : 1,
    m,
    k,
    n,
    outShape: [...batchShapeA, m, n],
  };
}

export function assertSquareMatrix(op: string, tensor: Tensor): number {
  if (tensor.rank !== 2 || tensor.shape[0] !== tensor.shape[1]) {
    throw new ShapeError(`${op}: ${tensor.describe()} must be a square matrix [d, d]`);
  }
  return tensor.shape[0];
}

/**
 * Checks the input of the Cholesky-family kernels (cholesky, choleskyInverse,
 * inverseHessianFactor), identical on every device: one f32 square matrix
 * and, when given, a finite non-negative damping fraction. Returns the order d.
 */
export function assertCholeskyInput(op: string, inputs: readonly Tensor[], percdamp?: number): number {
  if (inputs.length !== 1) throw new ShapeError(`${op}: expected one square matrix, got ${inputs.length} inputs (${describeInputs(inputs)})`);
  const d = assertSquareMatrix(op, inputs[0]);
  assertDTypes(op, inputs, ['f32']);
  if (percdamp !== undefined && !(Number.isFinite(percdamp) && percdamp >= 0)) {
    throw new RangeError(`${op}: percdamp must be a finite number ≥ 0 (a fraction of the mean diagonal), got ${percdamp}`);
  }
  return d;
}

/** Checks the inputs of a statistics update: state of `stateShape` and X of shape [..., d]. */
export function assertStatisticInputs(op: string, state: Tensor, x: Tensor, d: number, previous: number, added: number): number {
  assertRank(op, x, 1);
  if (x.shape[x.rank - 1] !== d) {
    throw new ShapeError(`${op}: input ${x.describe()} must have last dimension ${d} to match the state ${state.describe()}`);
  }
  if (state.dtype !== 'f32') {
    throw new DTypeError(`${op}: the accumulator ${state.describe()} must be f32`);
  }
  if (!(previous >= 0) || !(added > 0)) {
    throw new RangeError(`${op}: sample counts must satisfy previous ≥ 0 and added > 0 (got previous=${previous}, added=${added})`);
  }
  return x.size / d;
}
