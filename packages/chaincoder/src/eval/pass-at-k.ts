/**
 * The unbiased pass@k estimator (Chen et al., 2021, "Evaluating Large
 * Language Models Trained on Code"): with n samples of which c are correct,
 * pass@k = 1 − C(n−c, k) / C(n, k), the probability that a random subset of
 * k samples contains at least one correct one.
 */
import { UsageError } from '@sculpt/core';

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`${name} must be a non-negative integer, got ${value}.`);
}

/**
 * Computes 1 − C(n−c, k)/C(n, k) as 1 − Π_{i=n−c+1..n} (1 − k/i), which
 * never forms a binomial coefficient and so cannot overflow. Requires n ≥ k.
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCount('n (samples per problem)', n);
  checkCount('c (correct samples)', c);
  checkCount('k', k);
  if (k < 1) throw new UsageError('k must be at least 1.');
  if (c > n) throw new UsageError(`c (correct samples) = ${c} exceeds n (samples) = ${n}.`);
  if (n < k) throw new UsageError(`pass@${k} needs at least ${k} samples per problem, got n = ${n}; raise --n.`);
  // Fewer than k incorrect samples: every k-subset contains a correct one.
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

export interface ProblemSamples {
  /** Samples drawn for the problem. */
  n: number;
  /** Samples that passed every hidden test. */
  c: number;
}

/** Mean pass@k over problems; 0 for an empty list would hide a bug, so that is an error. */
export function meanPassAtK(problems: readonly ProblemSamples[], k: number): number {
  if (problems.length === 0) throw new UsageError('pass@k over zero problems is undefined; the evaluation split is empty.');
  let total = 0;
  for (const problem of problems) total += passAtK(problem.n, problem.c, k);
  return total / problems.length;
}

export interface FilteredSamples {
  /** Samples drawn for the problem. */
  n: number;
  /** Samples that passed the example tests shown in the model's input. */
  passedExamples: number;
  /** Samples that passed the examples and every hidden test. */
  correctAmongPassed: number;
}

/**
 * Example-filtered pass@k (as in AlphaCode's filtering step): the candidates
 * that fail the public examples are discarded, and pass@k is taken over the
 * m that remain, with k' = min(k, m) submissions. A problem whose candidates
 * all fail the examples scores 0.
 */
export function filteredPassAtK(samples: FilteredSamples, k: number): number {
  checkCount('n (samples per problem)', samples.n);
  checkCount('passedExamples', samples.passedExamples);
  checkCount('correctAmongPassed', samples.correctAmongPassed);
  if (samples.passedExamples > samples.n) {
    throw new UsageError(`passedExamples = ${samples.passedExamples} exceeds n = ${samples.n}.`);
  }
  if (samples.correctAmongPassed > samples.passedExamples) {
    throw new UsageError(`correctAmongPassed = ${samples.correctAmongPassed} exceeds passedExamples = ${samples.passedExamples}.`);
  }
  if (samples.n < k) throw new UsageError(`pass@${k} needs at least ${k} samples per problem, got n = ${samples.n}; raise --n.`);
  const m = samples.passedExamples;
  if (m === 0) return 0;
  return passAtK(m, samples.correctAmongPassed, Math.min(k, m));
}
