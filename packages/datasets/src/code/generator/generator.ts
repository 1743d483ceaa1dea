/**
 * Generates stdin programming problems with reference solutions and tests,
 * deterministically from a seed. It gives a CPU-sized model something it can
 * learn, and it is the offline default data set.
 */
import { Random, UsageError } from '@sculpt/core';
import { assignSplit, type SplitFractions } from '../split.js';
import { MAX_PROMPT_EXAMPLES, type CodeProblem, type IoExample } from '../types.js';
import { FAMILIES } from './families.js';

export interface GeneratorOptions {
  /** Problems to generate, spread round-robin over the families. */
  count: number;
  seed: number;
  /** Examples shown to the model per problem (at most 4). */
  examples: number;
  /** Hidden tests per problem. */
  tests: number;
  fractions: SplitFractions;
}

/** Draws distinct inputs, so no hidden test repeats an example. Gives up after many repeats for tiny input spaces. */
function distinctTests(makeInput: (rng: Random) => string, solve: (input: string) => string, rng: Random, count: number): IoExample[] {
  const seen = new Set<string>();
  const tests: IoExample[] = [];
  for (let attempt = 0; tests.length < count && attempt < count * 20; attempt++) {
    const input = makeInput(rng);
    if (seen.has(input)) continue;
    seen.add(input);
    tests.push({ input, output: solve(input) });
  }
  return tests;
}

export function generateProblems(options: GeneratorOptions): CodeProblem[] {
  if (!Number.isInteger(options.count) || options.count < 0) throw new UsageError(`count must be a non-negative integer, got ${options.count}.`);
  if (!Number.isInteger(options.examples) || options.examples < 1 || options.examples > MAX_PROMPT_EXAMPLES) {
    throw new UsageError(`examples must be an integer from 1 to ${MAX_PROMPT_EXAMPLES}, got ${options.examples}.`);
  }
  if (!Number.isInteger(options.tests) || options.tests < 1) throw new UsageError(`tests must be a positive integer, got ${options.tests}.`);

  const problems: CodeProblem[] = [];
  for (let index = 0; index < options.count; index++) {
    const family = FAMILIES[index % FAMILIES.length];
    const ordinal = Math.floor(index / FAMILIES.length);
    const id = `generated/${family.name}/${ordinal}`;
    // One stream per problem, so a problem does not change when the count does.
    const rng = new Random(options.seed * 1_000_003 + index);
    const instance = family.instantiate(rng);
    const tests = distinctTests(instance.makeInput, instance.solve, rng, options.examples + options.tests);
    problems.push({
      id,
      source: 'generated',
      split: assignSplit(id, options.fractions, options.seed),
      style: 'stdin',
      description: instance.description,
      examples: tests.slice(0, options.examples),
      tests: tests.slice(options.examples),
      solutions: instance.solutions,
      origin: `generated:${family.name}`,
    });
  }
  return problems;
}
