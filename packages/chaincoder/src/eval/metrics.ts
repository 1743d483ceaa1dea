/**
 * Candidate-level rates and per-segment token accuracy for ChainCoder
 * targets of the form [BOS] S1 [SEP] S2 [SEP] S3 [SEP] S4 [EOS].
 */
import { InputError } from '@sculpt/core';

export interface CandidateOutcome {
  /** The decoder output turned into a program: the four segments parsed, len(S3) = len(S4), and CPython accepted the source. */
  decodable: boolean;
  /** Every test it ran exited 0 within the limits. Undecodable candidates count as not run. */
  ranWithoutError: boolean;
  passedExamples: boolean;
  passedHidden: boolean;
}

export interface CandidateRates {
  candidates: number;
  decodabilityRate: number;
  runWithoutErrorRate: number;
  examplePassRate: number;
  hiddenPassRate: number;
}

/** Fractions over all candidates of all problems. */
export function candidateRates(outcomes: readonly CandidateOutcome[]): CandidateRates {
  const count = outcomes.length;
  const rate = (predicate: (outcome: CandidateOutcome) => boolean): number =>
    count === 0 ? 0 : outcomes.filter(predicate).length / count;
  return {
    candidates: count,
    decodabilityRate: rate((outcome) => outcome.decodable),
    runWithoutErrorRate: rate((outcome) => outcome.decodable && outcome.ranWithoutError),
    examplePassRate: rate((outcome) => outcome.passedExamples),
    hiddenPassRate: rate((outcome) => outcome.passedHidden),
  };
}

export const SEGMENT_NAMES = ['S1', 'S2', 'S3', 'S4'] as const;
export type SegmentName = (typeof SEGMENT_NAMES)[number];

export interface SpecialIds {
  bos: number;
  sep: number;
  eos: number;
}

/**
 * Labels each target position with its segment index 0–3, or -1 for BOS,
 * the separators and EOS. Throws when the target does not have exactly
 * three separators, since its segments would be ambiguous.
 */
export function segmentLabels(target: readonly number[], ids: SpecialIds): number[] {
  let segment = 0;
  let separators = 0;
  const labels = target.map((token, position) => {
    if (token === ids.sep) {
      separators++;
      segment++;
      return -1;
    }
    if ((position === 0 && token === ids.bos) || token === ids.eos) return -1;
    return segment;
  });
  if (separators !== 3) {
    throw new InputError(`A ChainCoder target needs exactly 3 separators (id ${ids.sep}), found ${separators}.`);
  }
  return labels;
}

export interface SegmentAccuracy {
  correct: number;
  total: number;
  /** correct / total, or NaN for a segment with no tokens. */
  accuracy: number;
}

export type SegmentAccuracies = Record<SegmentName, SegmentAccuracy>;

/**
 * Teacher-forced token accuracy per segment. `predicted[i][t]` is the model's
 * prediction for `targets[i][t]`; position 0 (BOS) is never predicted, so
 * callers may put anything there.
 */
export function segmentTokenAccuracy(
  predicted: readonly (readonly number[])[],
  targets: readonly (readonly number[])[],
  ids: SpecialIds,
): SegmentAccuracies {
  if (predicted.length !== targets.length) {
    throw new InputError(`Got ${predicted.length} predictions for ${targets.length} targets.`);
  }
  const counts = SEGMENT_NAMES.map(() => ({ correct: 0, total: 0 }));
  targets.forEach((target, index) => {
    const prediction = predicted[index];
    if (prediction.length !== target.length) {
      throw new InputError(`Prediction ${index} has ${prediction.length} tokens but its target has ${target.length}.`);
    }
    segmentLabels(target, ids).forEach((label, position) => {
      if (label < 0) return;
      counts[label].total++;
      if (prediction[position] === target[position]) counts[label].correct++;
    });
  });
  const entries = SEGMENT_NAMES.map((name, index) => {
    const { correct, total } = counts[index];
    return [name, { correct, total, accuracy: total === 0 ? Number.NaN : correct / total }] as const;
  });
  return Object.fromEntries(entries) as SegmentAccuracies;
}
