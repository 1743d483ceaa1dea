/**
 * The periodic I/O-sample curriculum of ChainCoder's trainer: per epoch, the
 * number of I/O samples and of programs per instance follow triangle waves,
 * snapped to the closest allowed value.
 *
 * triangle(i, A, T) = 2A · min(frac(i/T + 1/2), 1 − frac(i/T + 1/2)), which
 * starts at A for epoch 0, falls to 0 at i = T/2 and returns to A at i = T.
 */
import { UsageError } from '@sculpt/core';

export interface CurriculumWave {
  /** Peak of the wave. */
  amplitude: number;
  /** Period in epochs. */
  period: number;
  /** Allowed values, e.g. sample counts; the closest one to the wave is used (the smaller on a tie). */
  choices: readonly number[];
}

export interface Curriculum {
  ioSamples: CurriculumWave;
  programs: CurriculumWave;
}

/** The reference's waves: I/O samples from {1, 4, 8, …, 28} around 0–32 over 7.4 epochs; programs from 1–7 around 0–8 over 18.7 epochs. */
export const REFERENCE_CURRICULUM: Curriculum = {
  ioSamples: { amplitude: 32, period: 7.4, choices: [1, 4, 8, 12, 16, 20, 24, 28] },
  programs: { amplitude: 8, period: 18.7, choices: [1, 2, 3, 4, 5, 6, 7] },
};

/** The miniature's waves: amplitudes 8 and 3 with the reference periods, 1–8 samples and 1–3 programs. */
export const MINIATURE_CURRICULUM: Curriculum = {
  ioSamples: { amplitude: 8, period: 7.4, choices: [1, 2, 3, 4, 5, 6, 7, 8] },
  programs: { amplitude: 3, period: 18.7, choices: [1, 2, 3] },
};

export function triangleWave(epoch: number, amplitude: number, period: number): number {
  if (!(period > 0)) throw new UsageError(`A curriculum period must be positive, got ${period}.`);
  const phase = epoch / period + 0.5;
  const fraction = phase - Math.floor(phase);
  return 2 * amplitude * Math.min(fraction, 1 - fraction);
}

export function closestChoice(value: number, choices: readonly number[]): number {
  if (choices.length === 0) throw new UsageError('A curriculum needs at least one allowed value.');
  let best = choices[0];
  for (const choice of choices) {
    if (Math.abs(choice - value) < Math.abs(best - value)) best = choice;
  }
  return best;
}

/** Samples and programs per instance for an epoch. */
export function curriculumAt(curriculum: Curriculum, epoch: number): { ioSamples: number; programs: number } {
  const pick = (wave: CurriculumWave): number => closestChoice(triangleWave(epoch, wave.amplitude, wave.period), wave.choices);
  return { ioSamples: pick(curriculum.ioSamples), programs: pick(curriculum.programs) };
}
