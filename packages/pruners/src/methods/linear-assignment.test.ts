import { Random } from '@sculpt/core';
import { describe, expect, it } from 'vitest';
import { matrix } from '../algorithms/matrix.js';
import { solveLinearAssignment } from './linear-assignment.js';

/** Minimum cost over every injective row → column map, by exhaustive search. */
function bruteForceMinimum(rows: number, cols: number, cost: Float64Array): number {
  let best = Infinity;
  const used = new Uint8Array(cols);
  const visit = (row: number, total: number): void => {
    if (row === rows) {
      best = Math.min(best, total);
      return;
    }
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = 1;
      visit(row + 1, total + cost[row * cols + c]);
      used[c] = 0;
    }
  };
  visit(0, 0);
  return best;
}

function randomCost(random: Random, rows: number, cols: number, integer: boolean): Float64Array {
  return Float64Array.from({ length: rows * cols }, () => (integer ? random.int(-3, 4) : random.normal() * 10));
}

function expectDistinctColumns(columnOfRow: Int32Array, cols: number): void {
  const seen = new Set<number>();
  for (const column of columnOfRow) {
    expect(column).toBeGreaterThanOrEqual(0);
    expect(column).toBeLessThan(cols);
    seen.add(column);
  }
  expect(seen.size).toBe(columnOfRow.length);
}

describe('solveLinearAssignment', () => {
  it('matches brute force on square matrices', () => {
    const random = new Random(11);
    for (let n = 1; n <= 7; n++) {
      for (let trial = 0; trial < 12; trial++) {
        const data = randomCost(random, n, n, trial % 2 === 0);
        const result = solveLinearAssignment(matrix(n, n, data));
        expectDistinctColumns(result.columnOfRow, n);
        let recomputed = 0;
        result.columnOfRow.forEach((column, row) => (recomputed += data[row * n + column]));
        expect(result.cost).toBeCloseTo(recomputed, 9);
        expect(result.cost).toBeCloseTo(bruteForceMinimum(n, n, data), 9);
      }
    }
  });

  it('matches brute force on wide matrices', () => {
    const random = new Random(12);
    for (const [rows, cols] of [[1, 4], [2, 5], [3, 6], [4, 7]] as const) {
      for (let trial = 0; trial < 10; trial++) {
        const data = randomCost(random, rows, cols, trial % 3 === 0);
        const result = solveLinearAssignment(matrix(rows, cols, data));
        expectDistinctColumns(result.columnOfRow, cols);
        expect(result.cost).toBeCloseTo(bruteForceMinimum(rows, cols, data), 9);
      }
    }
  });

  it('finds the anti-diagonal', () => {
    const cost = matrix(3, 3, [5, 5, 0, 5, 0, 5, 0, 5, 5]);
    const result = solveLinearAssignment(cost);
    expect(Array.from(result.columnOfRow)).toEqual([2, 1, 0]);
    expect(result.cost).toBe(0);
  });

  it('rejects tall and non-finite matrices', () => {
    expect(() => solveLinearAssignment(matrix(3, 2))).toThrow(/rows ≤ columns.*3×2/);
    expect(() => solveLinearAssignment(matrix(2, 2, [0, Number.NaN, 1, 2]))).toThrow(/NaN/);
  });
});
