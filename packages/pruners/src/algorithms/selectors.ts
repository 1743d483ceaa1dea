/**
 * Mask selectors: given scores (larger = keep), choose which weights to
 * prune. Each reproduces one comparison group of the reference code:
 *
 * | selector        | group compared            | count pruned                     |
 * |-----------------|---------------------------|----------------------------------|
 * | per matrix      | whole matrix              | every score ≤ the k-th smallest  |
 * | per row         | each output row           | exactly ⌊C_in·p⌋ per row         |
 * | N:M             | each row × M input columns| exactly N per group              |
 * | α-variant       | each row, cumulative sums | varies per row                   |
 *
 * Ties are broken by a stable ascending sort (lower column index pruned first).
 */
import { InputError, UsageError } from '@sculpt/core';
import { emptyMask, kthSmallest, stableArgsort, type Mask, type Matrix } from './matrix.js';

/** An N:M pattern: prune `n` of every `m` consecutive input weights of a row. */
export interface NMPattern {
  n: number;
  m: number;
}

/** Parses "2:4" style patterns; rejects N ≥ M and non-positive values. */
export function parseNMPattern(text: string): NMPattern {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (match === null) throw new UsageError(`invalid N:M pattern "${text}": expected two integers such as 2:4 or 4:8`);
  const n = Number(match[1]);
  const m = Number(match[2]);
  if (n <= 0 || m <= 0 || n >= m) throw new UsageError(`invalid N:M pattern "${text}": need 0 < N < M`);
  return { n, m };
}

function checkSparsity(sparsity: number): void {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new UsageError(`sparsity must be between 0 and 1, got ${sparsity}`);
}

/**
 * Magnitude's layer-wide rule: thr = sort(scores)[⌊numel·p⌋], prune every
 * score ≤ thr. The `≤` prunes at least one more than ⌊numel·p⌋ (and all ties),
 * and even p = 0 prunes the minimum. p = 1 prunes everything.
 */
export function selectPerMatrix(scores: Matrix, sparsity: number): Mask {
  checkSparsity(sparsity);
  const mask = emptyMask(scores.rows, scores.cols);
  const count = scores.data.length;
  const index = Math.floor(count * sparsity);
  if (index >= count) {
    mask.data.fill(1);
    return mask;
  }
  const threshold = kthSmallest(scores.data, index);
  for (let i = 0; i < count; i++) if (scores.data[i] <= threshold) mask.data[i] = 1;
  return mask;
}

/** Wanda's rule: in every row, prune the ⌊C_in·p⌋ lowest scores (stable sort). */
export function selectPerRow(scores: Matrix, sparsity: number): Mask {
  checkSparsity(sparsity);
  const { rows, cols } = scores;
  const mask = emptyMask(rows, cols);
  const perRow = Math.floor(cols * sparsity);
  for (let r = 0; r < rows; r++) {
    const order = stableArgsort(scores.data, r * cols, cols);
    for (let k = 0; k < perRow; k++) mask.data[r * cols + order[k]] = 1;
  }
  return mask;
}

/** Throws unless the column count is a multiple of M (every LLaMA shape is). */
export function checkNMShape(cols: number, pattern: NMPattern, layer = 'layer'): void {
  if (cols % pattern.m !== 0) {
    throw new InputError(`${layer} has ${cols} input columns, not a multiple of ${pattern.m}, so ${pattern.n}:${pattern.m} groups do not tile it`);
  }
}

/** Prune the N lowest scores of columns [start, start+M) in row r. */
export function selectGroup(scores: ArrayLike<number>, rowOffset: number, start: number, pattern: NMPattern, mask: Uint8Array): void {
  const order = stableArgsort(scores, rowOffset + start, pattern.m);
  for (let k = 0; k < pattern.n; k++) mask[rowOffset + start + order[k]] = 1;
}

/** N:M: per row, groups of M consecutive columns from column 0, prune the N smallest. */
export function selectNM(scores: Matrix, pattern: NMPattern): Mask {
  checkNMShape(scores.cols, pattern);
  const mask = emptyMask(scores.rows, scores.cols);
  for (let r = 0; r < scores.rows; r++) {
    for (let start = 0; start < scores.cols; start += pattern.m) selectGroup(scores.data, r * scores.cols, start, pattern, mask.data);
  }
  return mask;
}

export interface AlphaSelection {
  mask: Mask;
  alpha: number;
  sparsity: number;
  /** Bisection steps after the initial α₀ = 0.4. */
  steps: number;
}

/**
 * Wanda's α-variant: per row, sort scores ascending and take cumulative sums
 * c_k of the row total T; for a given α, K = #{k : c_k ≤ α·T} and every score
 * ≤ the K-th smallest is pruned. One α for the whole layer is found by
 * bisection from α₀ = 0.4 in [0, 0.8], stopping when the layer sparsity is
 * within 0.001 of p or the bracket is narrower than 0.001.
 *
 * A row with K = 0 prunes nothing (the reference indexes position −1 there).
 */
export function selectAlphaVariant(scores: Matrix, sparsity: number): AlphaSelection {
  checkSparsity(sparsity);
  const { rows, cols } = scores;

  const sortedRows: Float64Array[] = [];
  const cumulative: Float64Array[] = [];
  const totals = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = Float64Array.from(scores.data.subarray(r * cols, (r + 1) * cols));
    totals[r] = row.reduce((sum, value) => sum + value, 0);
    row.sort();
    const sums = new Float64Array(cols);
    let running = 0;
    for (let k = 0; k < cols; k++) {
      running += row[k];
      sums[k] = running;
    }
    sortedRows.push(row);
    cumulative.push(sums);
  }

  const maskFor = (alpha: number): { mask: Mask; sparsity: number } => {
    const mask = emptyMask(rows, cols);
    let pruned = 0;
    for (let r = 0; r < rows; r++) {
      const limit = alpha * totals[r];
      let kept = 0;
      while (kept < cols && cumulative[r][kept] <= limit) kept++;
      if (kept === 0) continue;
      const threshold = sortedRows[r][kept - 1];
      for (let c = 0; c < cols; c++) {
        if (scores.data[r * cols + c] <= threshold) {
          mask.data[r * cols + c] = 1;
          pruned++;
        }
      }
    }
    return { mask, sparsity: pruned / (rows * cols) };
  };

  let alpha = 0.4;
  let lower = 0;
  let upper = 0.8;
  let current = maskFor(alpha);
  let steps = 0;
  while (Math.abs(current.sparsity - sparsity) > 0.001 && upper - lower >= 0.001) {
    if (current.sparsity > sparsity) {
      upper = alpha;
      alpha = (alpha + lower) / 2;
    } else {
      lower = alpha;
      alpha = (alpha + upper) / 2;
    }
    current = maskFor(alpha);
    steps++;
  }
  return { mask: current.mask, alpha, sparsity: current.sparsity, steps };
}
