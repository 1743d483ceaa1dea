/** Accuracy with a Wilson score interval, the summary every evaluation task reports. */

export interface AccuracySummary {
  correct: number;
  total: number;
  accuracy: number;
  /** 95% Wilson score interval for the accuracy. */
  lower: number;
  upper: number;
}

/** Wilson score interval for k successes in n trials at normal quantile z (1.96 gives 95%). */
export function wilsonInterval(successes: number, trials: number, z = 1.959963984540054): { lower: number; upper: number } {
  if (trials === 0) return { lower: 0, upper: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return { lower: Math.max(0, center - half), upper: Math.min(1, center + half) };
}

export function summarizeAccuracy(correct: number, total: number): AccuracySummary {
  const { lower, upper } = wilsonInterval(correct, total);
  return { correct, total, accuracy: total === 0 ? 0 : correct / total, lower, upper };
}
