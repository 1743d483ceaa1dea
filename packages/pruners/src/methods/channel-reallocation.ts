/**
 * RIA's channel reallocation for N:M sparsity (Zhang et al., ICLR 2024,
 * "Plug-and-Play: An Efficient Post-training Pruning Method for Large
 * Language Models"). N:M keeps the `K = M − N` best scores of every row inside
 * each group of M input columns, so two strong columns that share a group
 * compete for the same K slots. Permuting the columns before grouping lets
 * more of the score survive. The mask chosen in permuted order is mapped back
 * to the original column order, so the weight itself is never reordered.
 *
 * The paper describes the idea (sort channels by importance, spread them
 * over the blocks, then improve with linear-sum assignment) but leaves the
 * details open. This module fixes them as follows:
 *
 * 1. Objective. The retained score of a column order is Σ over rows and
 *    groups of the K largest scores in that row's group. Every step below
 *    only ever raises it.
 * 2. Heuristic allocation. Columns are sorted by their total score
 *    Σ_r S[r, c], descending, ties to the lower column index. The k-th column
 *    of that order goes to group `k mod G` (G = C_in / M groups), in slot
 *    `⌊k / G⌋`, so the G strongest columns land in G different groups.
 * 3. Starting point. Refinement starts from the heuristic order only when it
 *    retains strictly more than the original order, otherwise from the
 *    original order. The paper always starts from its allocation. Starting
 *    from the better one guarantees the result is never worse than plain N:M.
 * 4. Assignment rounds. Round t takes the column in slot `t mod M` out of
 *    every group. For G' groups, the value of putting removed column h back
 *    into group g is the retained score of g's remaining M − 1 columns plus
 *    h. A minimum-cost linear-sum assignment on the negated values picks the
 *    best reinsertion. Returning every column to its own group is one of the
 *    candidates, so a round never lowers the score. A round is applied only
 *    when it raises the score by more than a relative 1e-12.
 * 5. Stopping. Refinement stops after M consecutive rounds without gain
 *    (every slot tried once) or after `maxRounds` rounds.
 * 6. Windows. The cost of a round is G'²·C_out, so groups are solved in
 *    consecutive windows of at most `windowGroups` groups (positions in the
 *    current order). Columns move only within their window. With the
 *    round-robin allocation every window still contains a spread of strong and
 *    weak columns. The paper does not window.
 */
import { stableArgsort, type Mask, type Matrix } from '../algorithms/matrix.js';
import { checkNMShape, selectNM, type NMPattern } from '../algorithms/selectors.js';
import { solveLinearAssignment } from './linear-assignment.js';

export interface ChannelReallocationOptions {
  /** Maximum assignment rounds; 0 keeps the starting order. */
  maxRounds: number;
  /** Maximum number of groups in one assignment problem. */
  windowGroups: number;
}

export const defaultReallocationOptions: ChannelReallocationOptions = { maxRounds: 32, windowGroups: 256 };

export interface ChannelReallocation {
  /** `order[p]` is the original column placed at permuted position p; group g is positions [g·M, (g+1)·M). */
  order: Int32Array;
  /** Retained score of plain N:M on the original column order. */
  retainedOriginal: number;
  /** Retained score with the heuristic allocation alone, before assignment rounds. */
  retainedHeuristic: number;
  /** Retained score of the final order. */
  retainedFinal: number;
  /** Assignment rounds run, including those that brought no gain. */
  rounds: number;
}

/** Sorts the first `length` values ascending by insertion, which beats TypedArray.sort for the few values of one group. */
function sortGroup(values: Float64Array, length: number): void {
  for (let i = 1; i < length; i++) {
    const value = values[i];
    let j = i - 1;
    while (j >= 0 && values[j] > value) {
      values[j + 1] = values[j];
      j--;
    }
    values[j + 1] = value;
  }
}

/** Sum over rows and groups of the K = M − N largest scores in each group of the given column order. */
export function retainedScore(scores: Matrix, pattern: NMPattern, order: ArrayLike<number>): number {
  checkNMShape(scores.cols, pattern);
  const { rows, cols, data } = scores;
  const keep = pattern.m - pattern.n;
  const group = new Float64Array(pattern.m);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    for (let start = 0; start < cols; start += pattern.m) {
      for (let slot = 0; slot < pattern.m; slot++) group[slot] = data[r * cols + order[start + slot]];
      sortGroup(group, pattern.m);
      for (let k = pattern.m - keep; k < pattern.m; k++) total += group[k];
    }
  }
  return total;
}

/** Columns sorted by total score and dealt round-robin into the groups (step 2 of the module comment). */
export function heuristicAllocation(scores: Matrix, pattern: NMPattern): Int32Array {
  const { rows, cols, data } = scores;
  const groups = cols / pattern.m;
  const negatedTotals = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) negatedTotals[c] -= data[r * cols + c];

  // Ascending order of the negated totals is descending total order, ties to the lower index.
  const byImportance = stableArgsort(negatedTotals);
  const order = new Int32Array(cols);
  for (let k = 0; k < cols; k++) order[(k % groups) * pattern.m + Math.floor(k / groups)] = byImportance[k];
  return order;
}

/** Finds a column order that retains at least as much score under N:M as the original order. */
export function reallocateChannels(scores: Matrix, pattern: NMPattern, options: ChannelReallocationOptions = defaultReallocationOptions): ChannelReallocation {
  checkNMShape(scores.cols, pattern);
  const identity = Int32Array.from({ length: scores.cols }, (_, c) => c);
  const retainedOriginal = retainedScore(scores, pattern, identity);
  const heuristic = heuristicAllocation(scores, pattern);
  const retainedHeuristic = retainedScore(scores, pattern, heuristic);

  const order = retainedHeuristic > retainedOriginal ? heuristic : identity;
  const groups = scores.cols / pattern.m;
  let rounds = 0;
  let roundsWithoutGain = 0;
  while (rounds < options.maxRounds && roundsWithoutGain < pattern.m && groups > 1) {
    const slot = rounds % pattern.m;
    let improved = false;
    for (let first = 0; first < groups; first += options.windowGroups) {
      const count = Math.min(options.windowGroups, groups - first);
      if (count > 1 && reassignSlot(scores, pattern, order, first, count, slot)) improved = true;
    }
    rounds++;
    roundsWithoutGain = improved ? 0 : roundsWithoutGain + 1;
  }

  return { order, retainedOriginal, retainedHeuristic, retainedFinal: retainedScore(scores, pattern, order), rounds };
}

/**
 * Runs one assignment round on groups [first, first + count): takes the column
 * in `slot` out of each group and reinserts the removed columns where they
 * retain the most. Updates `order` in place and returns whether it gained.
 */
function reassignSlot(scores: Matrix, pattern: NMPattern, order: Int32Array, first: number, count: number, slot: number): boolean {
  const { rows, cols, data } = scores;
  const keep = pattern.m - pattern.n;

  // With the rest of group g sorted descending as v_1 ≥ … ≥ v_{M−1}, adding a
  // score x keeps v_1 … v_{K−1} plus max(x, v_K). So each group needs only the
  // sum of its K − 1 largest rest scores and its K-th largest, per row.
  const baseOfGroup = new Float64Array(count);
  const thresholds = new Float64Array(count * rows);
  const removedScores = new Float64Array(count * rows);
  const rest = new Float64Array(pattern.m - 1);
  for (let g = 0; g < count; g++) {
    const start = (first + g) * pattern.m;
    const removed = order[start + slot];
    for (let r = 0; r < rows; r++) {
      let size = 0;
      for (let s = 0; s < pattern.m; s++) if (s !== slot) rest[size++] = data[r * cols + order[start + s]];
      sortGroup(rest, rest.length);
      for (let k = 1; k < keep; k++) baseOfGroup[g] += rest[rest.length - k];
      thresholds[g * rows + r] = rest[rest.length - keep];
      removedScores[g * rows + r] = data[r * cols + removed];
    }
  }

  const cost = { rows: count, cols: count, data: new Float64Array(count * count) };
  for (let g = 0; g < count; g++) {
    for (let h = 0; h < count; h++) {
      let value = baseOfGroup[g];
      for (let r = 0; r < rows; r++) value += Math.max(removedScores[h * rows + r], thresholds[g * rows + r]);
      cost.data[g * count + h] = -value;
    }
  }

  let current = 0;
  for (let g = 0; g < count; g++) current += cost.data[g * count + g];
  const assignment = solveLinearAssignment(cost);
  if (!(assignment.cost < current - 1e-12 * Math.abs(current))) return false;

  const removedColumns = Int32Array.from({ length: count }, (_, g) => order[(first + g) * pattern.m + slot]);
  for (let g = 0; g < count; g++) order[(first + g) * pattern.m + slot] = removedColumns[assignment.columnOfRow[g]];
  return true;
}

/**
 * Chooses an N:M mask on the columns in `order`, then maps it back: the
 * returned mask is in the original column order, with exactly N pruned per
 * row in each group of columns `order[g·M … g·M + M − 1]`.
 */
export function selectNMInOrder(scores: Matrix, pattern: NMPattern, order: Int32Array): Mask {
  const { rows, cols, data } = scores;
  const permuted = { rows, cols, data: new Float64Array(rows * cols) };
  for (let r = 0; r < rows; r++) for (let p = 0; p < cols; p++) permuted.data[r * cols + p] = data[r * cols + order[p]];

  const permutedMask = selectNM(permuted, pattern);
  const mask: Mask = { rows, cols, data: new Uint8Array(rows * cols) };
  for (let r = 0; r < rows; r++) for (let p = 0; p < cols; p++) mask.data[r * cols + order[p]] = permutedMask.data[r * cols + p];
  return mask;
}
