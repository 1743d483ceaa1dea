/**
 * Problem-level splits. A problem's split is a pure function of its id and a
 * seed, so the same problem lands in the same split on every run and machine,
 * and no problem is ever in two splits.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '@sculpt/core';
import type { CodeSplit } from './types.js';

export interface SplitFractions {
  /** Fraction of problems held out for validation. */
  validation: number;
  /** Fraction held out for testing; ignored where the source has its own test split. */
  test: number;
}

/** 10% validation, as in the ChainCoder miniature's held-out set, and 10% test. */
export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { validation: 0.1, test: 0.1 };

export function checkFractions(fractions: SplitFractions): void {
  const { validation, test } = fractions;
  if (!(validation >= 0 && test >= 0 && validation + test < 1)) {
    throw new UsageError(
      `Split fractions must be non-negative and sum to less than 1, got validation=${validation}, test=${test}.`,
    );
  }
}

/** Maps `seed:id` through SHA-256 to a uniform number in [0, 1). */
export function hashFraction(id: string, seed: number): number {
  const digest = createHash('sha256').update(`${seed}:${id}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * Assigns a split by hashing the id. With `hasOwnTest`, the source's test
 * problems were already set apart, so the rest is divided into train and
 * validation only.
 */
export function assignSplit(id: string, fractions: SplitFractions, seed: number, hasOwnTest = false): CodeSplit {
  checkFractions(fractions);
  const value = hashFraction(id, seed);
  if (value < fractions.validation) return 'validation';
  if (!hasOwnTest && value < fractions.validation + fractions.test) return 'test';
  return 'train';
}
