import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProblems, type CodeProblem } from '@sculpt/datasets';
import { evaluateCandidates } from '../../src/eval/index.js';
import { PythonSandbox } from '../../src/sandbox/index.js';

describe('evaluateCandidates', () => {
  let sandbox: PythonSandbox;
  let sumProblem: CodeProblem;
  let maxProblem: CodeProblem;

  beforeAll(async () => {
    sandbox = await PythonSandbox.create();
    const problems = generateProblems({ count: 3, seed: 5, examples: 2, tests: 6, fractions: { validation: 0, test: 0 } });
    [sumProblem, maxProblem] = [problems[1], problems[2]];
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('computes pass@k, filtered pass@k and rates', async () => {
    const knownOutputs = Object.fromEntries(sumProblem.examples.map((example) => [example.input, example.output]));
    // Prints the right answer for the examples only, so it passes the filter but not the hidden tests.
    const overfit = `import sys\nknown = ${JSON.stringify(knownOutputs)}\nprint(known.get(sys.stdin.read(), "0"), end="")\n`;
    const candidates = new Map<string, (string | null)[]>([
      [sumProblem.id, [sumProblem.solutions[0], sumProblem.solutions[1], overfit, 'def broken(:\n', null]],
      [maxProblem.id, ['print(-99999)\n', 'print(-99999)\n', maxProblem.solutions[0], 'raise SystemExit(3)\n', null]],
      ['generated/none/0', ['print(1)\n']],
    ]);
    const untested: CodeProblem = { ...sumProblem, id: 'generated/none/0', tests: [] };

    const report = await evaluateCandidates(sandbox, [sumProblem, maxProblem, untested], candidates, { ks: [1, 5] });

    expect(report.problems).toBe(2);
    expect(report.skipped).toEqual(['generated/none/0']);
    expect(report.samplesPerProblem).toBe(5);
    // Sum problem: 2 of 5 correct; max problem: 1 of 5.
    expect(report.perProblem.map((result) => result.correct)).toEqual([2, 1]);
    expect(report.passAtK['pass@1']).toBeCloseTo((0.4 + 0.2) / 2, 12);
    expect(report.passAtK['pass@5']).toBe(1);
    // Filtered: 2 correct among 3 example-passing candidates, and 1 among 1.
    expect(report.perProblem.map((result) => result.passedExamples)).toEqual([3, 1]);
    expect(report.filteredPassAtK['pass@1']).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(report.rates.decodabilityRate).toBeCloseTo(7 / 10, 12);
    expect(report.rates.runWithoutErrorRate).toBeCloseTo(6 / 10, 12);
    expect(report.comparison).toBe('exact-lines');
  });

  it('rejects fewer candidates than k', async () => {
    const candidates = new Map([[sumProblem.id, [sumProblem.solutions[0]]]]);
    await expect(evaluateCandidates(sandbox, [sumProblem], candidates, { ks: [1, 5] })).rejects.toThrow(/pass@5 needs at least 5 candidates/u);
  });

  it('rejects uneven candidate counts', async () => {
    const candidates = new Map([
      [sumProblem.id, [sumProblem.solutions[0]]],
      [maxProblem.id, [maxProblem.solutions[0], maxProblem.solutions[1]]],
    ]);
    await expect(evaluateCandidates(sandbox, [sumProblem, maxProblem], candidates, { ks: [1] })).rejects.toThrow(/same number of candidates/u);
  });
});
