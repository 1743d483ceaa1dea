/**
 * Dense row-major matrices on plain typed arrays, the common currency of the
 * pruning algorithms. A linear layer's weight is `rows = C_out` by
 * `cols = C_in`, so `y = x Wᵀ`; a mask has the same shape with 1 = pruned.
 */
import { InputError } from '@sculpt/core';

export type FloatArray = Float32Array | Float64Array;

export interface Matrix<T extends FloatArray = FloatArray> {
  rows: number;
  cols: number;
  data: T;
}

/** A pruning mask: 1 marks a weight that is set to zero. Row-major like its weight. */
export interface Mask {
  rows: number;
  cols: number;
  data: Uint8Array;
}

export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix<Float64Array> {
  const values = new Float64Array(rows * cols);
  if (data !== undefined) {
    if (data.length !== rows * cols) {
      throw new InputError(`matrix data has ${data.length} values but ${rows}×${cols} needs ${rows * cols}`);
    }
    values.set(data);
  }
  return { rows, cols, data: values };
}

/** Builds a matrix from nested rows (tests and small examples). */
export function fromRows(rows: readonly (readonly number[])[]): Matrix<Float64Array> {
  const cols = rows[0]?.length ?? 0;
  const result = matrix(rows.length, cols);
  rows.forEach((row, r) => {
    if (row.length !== cols) throw new InputError(`row ${r} has ${row.length} values, expected ${cols}`);
    result.data.set(row, r * cols);
  });
  return result;
}

export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < m.rows; r++) out.push(Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));
  return out;
}

export function toFloat64(m: Matrix): Matrix<Float64Array> {
  return { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data) };
}

export function emptyMask(rows: number, cols: number): Mask {
  return { rows, cols, data: new Uint8Array(rows * cols) };
}

/** Row bit strings such as `01100110`, the notation of the test vectors. */
export function maskToBitStrings(mask: Mask): string[] {
  const out: string[] = [];
  for (let r = 0; r < mask.rows; r++) {
    out.push(Array.from(mask.data.subarray(r * mask.cols, (r + 1) * mask.cols)).join(''));
  }
  return out;
}

export function countPruned(mask: Mask): number {
  let count = 0;
  for (const bit of mask.data) count += bit;
  return count;
}

/** Fraction of exact zeros in a weight. */
export function zeroFraction(weight: Matrix): number {
  let zeros = 0;
  for (const value of weight.data) if (value === 0) zeros++;
  return weight.data.length === 0 ? 0 : zeros / weight.data.length;
}

/** Zeroes every masked weight in place. */
export function applyMask(weight: Matrix, mask: Mask): void {
  assertSameShape(weight, mask, 'mask');
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) weight.data[i] = 0;
}

export function assertSameShape(a: { rows: number; cols: number }, b: { rows: number; cols: number }, what: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new InputError(`${what} is ${b.rows}×${b.cols} but the weight is ${a.rows}×${a.cols}`);
  }
}

/** Indices `0..n-1` ordered by ascending value; ties keep the lower index first (a stable sort). */
export function stableArgsort(values: ArrayLike<number>, start = 0, length = values.length - start): Int32Array {
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  order.sort((a, b) => {
    const difference = values[start + a] - values[start + b];
    return difference !== 0 ? difference : a - b;
  });
  return order;
}

/**
 * Returns the value `sorted[k]` would have after an ascending sort of
 * `values` (NaN last, as typed-array sort places it). It uses selection, O(n)
 * on average, instead of a full sort. Thresholds only need that one order
 * statistic, and sorting half a million scores per SparseGPT block was a
 * visible share of its time. `values` is not changed.
 */
export function kthSmallest(values: ArrayLike<number>, k: number): number {
  const work = new Float64Array(values.length);
  let length = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) work[length++] = values[i];
  if (k < 0 || k >= values.length) throw new RangeError(`order statistic ${k} is outside 0..${values.length - 1}`);
  if (k >= length) return NaN;

  let low = 0;
  let high = length - 1;
  // Median-of-three quickselect; after 2·log₂(n) rounds without converging, sort the rest.
  let rounds = 2 * Math.ceil(Math.log2(length + 1)) + 8;
  while (high > low) {
    if (rounds-- === 0) {
      const rest = work.subarray(low, high + 1).sort();
      return rest[k - low];
    }
    const middle = (low + high) >> 1;
    const pivot = medianOfThree(work[low], work[middle], work[high]);
    let i = low;
    let j = high;
    while (i <= j) {
      while (work[i] < pivot) i++;
      while (work[j] > pivot) j--;
      if (i <= j) {
        const value = work[i];
        work[i] = work[j];
        work[j] = value;
        i++;
        j--;
      }
    }
    // Now work[low..j] ≤ pivot ≤ work[i..high], and entries between j and i equal the pivot.
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else return work[k];
  }
  return work[k];
}

function medianOfThree(a: number, b: number, c: number): number {
  const low = Math.min(a, b);
  const high = Math.max(a, b);
  if (c <= low) return low;
  if (c >= high) return high;
  return c;
}
