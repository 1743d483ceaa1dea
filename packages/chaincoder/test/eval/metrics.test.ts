import { describe, expect, it } from 'vitest';
import { candidateRates, segmentLabels, segmentTokenAccuracy } from '../../src/eval/index.js';

const ids = { bos: 1, sep: 2, eos: 3 };

describe('segmentLabels', () => {
  it('labels positions by segment', () => {
    // BOS a b SEP c SEP d e SEP f g EOS
    expect(segmentLabels([1, 10, 11, 2, 12, 2, 13, 14, 2, 15, 16, 3], ids)).toEqual([-1, 0, 0, -1, 1, -1, 2, 2, -1, 3, 3, -1]);
  });

  it('allows empty outline segments', () => {
    expect(segmentLabels([1, 2, 2, 13, 2, 15, 3], ids)).toEqual([-1, -1, -1, 2, -1, 3, -1]);
  });

  it('rejects a wrong separator count', () => {
    expect(() => segmentLabels([1, 10, 2, 11, 2, 12, 3], ids)).toThrow(/exactly 3 separators \(id 2\), found 2/u);
  });
});

describe('segmentTokenAccuracy', () => {
  it('counts each segment separately', () => {
    const target = [1, 10, 11, 2, 12, 2, 13, 14, 2, 15, 16, 3];
    const predicted = [0, 10, 99, 2, 12, 2, 13, 14, 2, 99, 99, 3];
    const result = segmentTokenAccuracy([predicted], [target], ids);
    expect(result.S1).toEqual({ correct: 1, total: 2, accuracy: 0.5 });
    expect(result.S2).toEqual({ correct: 1, total: 1, accuracy: 1 });
    expect(result.S3).toEqual({ correct: 2, total: 2, accuracy: 1 });
    expect(result.S4).toEqual({ correct: 0, total: 2, accuracy: 0 });
  });

  it('reports NaN for an empty segment', () => {
    const result = segmentTokenAccuracy([[1, 2, 2, 13, 2, 15, 3]], [[1, 2, 2, 13, 2, 15, 3]], ids);
    expect(result.S1.accuracy).toBeNaN();
    expect(result.S3.accuracy).toBe(1);
  });

  it('rejects length mismatches', () => {
    expect(() => segmentTokenAccuracy([[1, 2]], [[1, 2, 2, 2, 3]], ids)).toThrow(/Prediction 0 has 2 tokens but its target has 5/u);
  });
});

describe('candidateRates', () => {
  it('computes rates over candidates', () => {
    const rates = candidateRates([
      { decodable: true, ranWithoutError: true, passedExamples: true, passedHidden: true },
      { decodable: true, ranWithoutError: false, passedExamples: false, passedHidden: false },
      { decodable: false, ranWithoutError: false, passedExamples: false, passedHidden: false },
      { decodable: true, ranWithoutError: true, passedExamples: true, passedHidden: false },
    ]);
    expect(rates).toEqual({ candidates: 4, decodabilityRate: 0.75, runWithoutErrorRate: 0.5, examplePassRate: 0.5, hiddenPassRate: 0.25 });
  });
});
