/**
 * Learning-rate schedule of ChainCoder's trainer ("adam_inverse_sqrt" in the
 * reference): a linear warmup from `initialLr` to `peakLr` over
 * `warmupSteps` updates, then `peakLr · sqrt(warmupSteps / step)`.
 */
import { UsageError } from '@sculpt/core';

export interface InverseSqrtSchedule {
  peakLr: number;
  warmupSteps: number;
  /** Learning rate at step 0; the reference uses 1e-7. */
  initialLr: number;
}

/** Learning rate for update number `step` (0-based: the first update uses step 0). */
export function learningRateAt(schedule: InverseSqrtSchedule, step: number): number {
  const { peakLr, warmupSteps, initialLr } = schedule;
  if (!(peakLr > 0) || !(initialLr >= 0) || !Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new UsageError(`Invalid learning-rate schedule: peakLr=${peakLr}, initialLr=${initialLr}, warmupSteps=${warmupSteps}.`);
  }
  if (!Number.isInteger(step) || step < 0) throw new UsageError(`step must be a non-negative integer, got ${step}.`);
  if (step < warmupSteps) return initialLr + ((peakLr - initialLr) * step) / warmupSteps;
  return peakLr * Math.sqrt(Math.max(warmupSteps, 1) / Math.max(step, 1));
}
