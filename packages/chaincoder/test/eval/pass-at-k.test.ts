import { describe, expect, it } from 'vitest';
import { filteredPassAtK, meanPassAtK, passAtK } from '../../src/eval/index.js';

/** C(n, k) exactly, as a BigInt. */
function binomial(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let result = 1n;
  for (let i = 1; i <= k; i++) result = (result * BigInt(n - k + i)) / BigInt(i);
  return result;
}

/** 1 − C(n−c, k)/C(n, k) from exact integers, rounded to float64 only at the end. */
function exactPassAtK(n: number, c: number, k: number): number {
  const scale = 10n ** 30n;
  const ratio = (binomial(n - c, k) * scale) / binomial(n, k);
  return 1 - Number(ratio) / Number(scale);
}

describe('passAtK', () => {
  it('matches hand-computed values', () => {
    // 7/8 · 8/9 · 9/10 = 7/10 of the 1-subsets are all wrong.
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 15);
    // C(7,5)/C(10,5) = 21/252 = 1/12.
    expect(passAtK(10, 3, 5)).toBeCloseTo(11 / 12, 15);
    expect(passAtK(200, 1, 1)).toBeCloseTo(0.005, 15);
    expect(passAtK(5, 0, 5)).toBe(0);
    expect(passAtK(5, 1, 5)).toBe(1);
  });

  it('returns 1 with fewer than k wrong samples', () => {
    expect(passAtK(10, 6, 5)).toBe(1);
    expect(passAtK(10, 10, 1)).toBe(1);
  });

  it('agrees with exact binomials for large n', () => {
    for (const [n, c, k] of [
      [1000, 10, 100],
      [500, 250, 5],
      [300, 1, 299],
      [1000, 999, 1],
    ] as const) {
      expect(passAtK(n, c, k)).toBeCloseTo(exactPassAtK(n, c, k), 12);
    }
  });

  it('rejects fewer samples than k', () => {
    expect(() => passAtK(4, 1, 5)).toThrow(/needs at least 5 samples per problem, got n = 4/u);
  });

  it('rejects invalid counts', () => {
    expect(() => passAtK(5, 6, 1)).toThrow(/exceeds n/u);
    expect(() => passAtK(5, -1, 1)).toThrow(/non-negative integer/u);
    expect(() => passAtK(5, 1, 0)).toThrow(/at least 1/u);
    expect(() => passAtK(5.5, 1, 1)).toThrow(/non-negative integer/u);
  });

  it('averages over problems', () => {
    expect(
      meanPassAtK(
        [
          { n: 10, c: 3 },
          { n: 10, c: 0 },
        ],
        1,
      ),
    ).toBeCloseTo(0.15, 15);
    expect(() => meanPassAtK([], 1)).toThrow(/zero problems/u);
  });
});

describe('filteredPassAtK', () => {
  it('takes pass@k over example-passing candidates', () => {
    expect(filteredPassAtK({ n: 10, passedExamples: 4, correctAmongPassed: 2 }, 1)).toBeCloseTo(0.5, 15);
    // k = 5 but only 4 candidates survive: all are submitted, and one is correct.
    expect(filteredPassAtK({ n: 10, passedExamples: 4, correctAmongPassed: 1 }, 5)).toBe(1);
    // C(4,2)/C(6,2) = 6/15 of the pairs are all wrong.
    expect(filteredPassAtK({ n: 10, passedExamples: 6, correctAmongPassed: 2 }, 2)).toBeCloseTo(1 - 6 / 15, 15);
  });

  it('scores 0 when nothing passes the examples', () => {
    expect(filteredPassAtK({ n: 10, passedExamples: 0, correctAmongPassed: 0 }, 5)).toBe(0);
  });

  it('rejects inconsistent counts', () => {
    expect(() => filteredPassAtK({ n: 10, passedExamples: 2, correctAmongPassed: 3 }, 1)).toThrow(/exceeds passedExamples/u);
    expect(() => filteredPassAtK({ n: 3, passedExamples: 2, correctAmongPassed: 1 }, 5)).toThrow(/raise --n/u);
  });
});
