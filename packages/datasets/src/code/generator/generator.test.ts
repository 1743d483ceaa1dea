import { describe, expect, it } from 'vitest';
import { FAMILIES } from './families.js';
import { generateProblems } from './generator.js';

const options = { count: 120, seed: 3, examples: 4, tests: 8, fractions: { validation: 0.1, test: 0.1 } };

describe('generateProblems', () => {
  it('is deterministic for a seed', () => {
    expect(generateProblems(options)).toEqual(generateProblems(options));
    expect(generateProblems({ ...options, seed: 4 })).not.toEqual(generateProblems(options));
  });

  it('keeps a problem when the count changes', () => {
    const small = generateProblems({ ...options, count: 20 });
    expect(generateProblems(options).slice(0, 20)).toEqual(small);
  });

  it('covers every family with distinct tests', () => {
    const problems = generateProblems(options);
    expect(new Set(problems.map((problem) => problem.origin)).size).toBe(FAMILIES.length);
    expect(new Set(problems.map((problem) => problem.id)).size).toBe(problems.length);
    for (const problem of problems) {
      expect(problem.examples).toHaveLength(4);
      expect(problem.tests.length).toBeGreaterThan(0);
      const inputs = [...problem.examples, ...problem.tests].map((test) => test.input);
      expect(new Set(inputs).size).toBe(inputs.length);
      expect(problem.solutions.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('assigns every split', () => {
    const splits = new Set(generateProblems({ ...options, count: 300 }).map((problem) => problem.split));
    expect([...splits].sort()).toEqual(['test', 'train', 'validation']);
  });

  it('rejects more than 4 examples', () => {
    expect(() => generateProblems({ ...options, examples: 5 })).toThrow(/examples must be an integer from 1 to 4/u);
  });
});
