import { describe, expect, it } from 'vitest';
import { Random } from '@sculpt/core';
import {
  MINIATURE_CURRICULUM,
  REFERENCE_CURRICULUM,
  closestChoice,
  curriculumAt,
  drawItems,
  epochBatches,
  learningRateAt,
  triangleWave,
} from '../../src/train/index.js';

describe('learningRateAt', () => {
  const schedule = { peakLr: 1e-4, warmupSteps: 10_000, initialLr: 1e-7 };

  it('warms up linearly', () => {
    expect(learningRateAt(schedule, 0)).toBe(1e-7);
    expect(learningRateAt(schedule, 5_000)).toBeCloseTo(1e-7 + (1e-4 - 1e-7) / 2, 18);
  });

  it('decays as the inverse square root', () => {
    expect(learningRateAt(schedule, 10_000)).toBeCloseTo(1e-4, 18);
    expect(learningRateAt(schedule, 40_000)).toBeCloseTo(5e-5, 18);
    expect(learningRateAt(schedule, 90_000)).toBeCloseTo(1e-4 / 3, 18);
  });

  it('handles no warmup', () => {
    expect(learningRateAt({ ...schedule, warmupSteps: 0 }, 0)).toBe(1e-4);
    expect(learningRateAt({ ...schedule, warmupSteps: 0 }, 4)).toBeCloseTo(5e-5, 18);
  });

  it('rejects a negative step', () => {
    expect(() => learningRateAt(schedule, -1)).toThrow(/non-negative integer, got -1/u);
  });
});

describe('curriculum', () => {
  it('follows the triangle wave', () => {
    expect(triangleWave(0, 32, 7.4)).toBeCloseTo(32, 12);
    expect(triangleWave(3.7, 32, 7.4)).toBeCloseTo(0, 12);
    expect(triangleWave(1.85, 32, 7.4)).toBeCloseTo(16, 12);
    expect(triangleWave(7.4, 32, 7.4)).toBeCloseTo(32, 12);
  });

  it('snaps to the closest choice', () => {
    expect(closestChoice(0, [1, 4, 8])).toBe(1);
    expect(closestChoice(6, [1, 4, 8])).toBe(4);
    expect(closestChoice(6.1, [1, 4, 8])).toBe(8);
  });

  it('matches hand-computed epochs', () => {
    // Epoch 1 of the reference: 2·32·min(0.6351, 0.3649) = 23.35 → 24 samples; 2·8·min(0.5535, 0.4465) = 7.14 → 7 programs.
    expect(curriculumAt(REFERENCE_CURRICULUM, 1)).toEqual({ ioSamples: 24, programs: 7 });
    // Epoch 3 of the miniature: 2·8·min(0.9054, 0.0946) = 1.51 → 2 samples; 2·3·min(0.6604, 0.3396) = 2.04 → 2 programs.
    expect(curriculumAt(MINIATURE_CURRICULUM, 3)).toEqual({ ioSamples: 2, programs: 2 });
  });
});

describe('epochBatches', () => {
  it('covers every instance once in disjoint blocks', () => {
    const batches = epochBatches(21, 8, 1, 0);
    expect(batches.map((batch) => batch.length)).toEqual([8, 8, 5]);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 21 }, (_, index) => index));
  });

  it('is reproducible per epoch', () => {
    expect(epochBatches(30, 8, 2, 5)).toEqual(epochBatches(30, 8, 2, 5));
    expect(epochBatches(30, 8, 2, 5)).not.toEqual(epochBatches(30, 8, 2, 6));
  });

  it('draws with repeats only when short', () => {
    const random = new Random(3);
    expect(new Set(drawItems([1, 2, 3, 4], 3, random)).size).toBe(3);
    const padded = drawItems([1, 2], 5, random);
    expect(padded).toHaveLength(5);
    expect(new Set(padded.slice(0, 2))).toEqual(new Set([1, 2]));
  });
});
