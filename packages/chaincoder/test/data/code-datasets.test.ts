/**
 * Code datasets that need Python: function-style sets converted by running
 * their reference solutions in the real sandbox, and the generator's
 * reference solutions checked against its TypeScript expected outputs.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProblems, loadApps, loadHumanEval, loadMbpp, FAMILIES } from '@sculpt/datasets';
import { PythonSandbox, judgeProgram } from '../../src/sandbox/index.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const dataDir = resolve(repoRoot, '../shared/data');

describe('code datasets in the sandbox', () => {
  let sandbox: PythonSandbox;
  beforeAll(async () => {
    sandbox = await PythonSandbox.create();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('converts MBPP to stdin tests', async () => {
    const { problems, report } = await loadMbpp([resolve(dataDir, 'mbpp/mbpp.sample.jsonl')], sandbox);
    const dropped = Object.values(report.dropped).reduce((sum, count) => sum + count, 0);
    expect(problems.length + dropped).toBe(200);
    expect(problems.length).toBeGreaterThan(180);

    const countWays = problems.find((problem) => problem.id === 'mbpp/5');
    expect(countWays?.examples).toEqual([{ input: '(2,)\n', output: '3\n' }]);
    expect(countWays?.tests).toEqual([
      { input: '(8,)\n', output: '153\n' },
      { input: '(12,)\n', output: '2131\n' },
    ]);
    expect(countWays?.split).toBe('train');

    // The converted solutions pass their own hidden tests as stdin programs.
    for (const problem of problems.slice(0, 12)) {
      const verdict = await judgeProgram(sandbox, problem.solutions[0], problem.tests);
      expect(verdict.passed, problem.id).toBe(true);
    }
  });

  it('converts HumanEval to stdin tests', async () => {
    const { problems, report } = await loadHumanEval([resolve(dataDir, 'humaneval/HumanEval.sample.jsonl')], sandbox);
    const dropped = Object.values(report.dropped).reduce((sum, count) => sum + count, 0);
    expect(problems.length + dropped).toBe(82);
    expect(problems.length).toBeGreaterThan(70);
    expect(problems.every((problem) => problem.split === 'test')).toBe(true);

    const parens = problems.find((problem) => problem.id === 'humaneval/1');
    expect(parens?.description.startsWith('Input to this function is a string')).toBe(true);
    expect(parens?.examples[0]).toEqual({
      input: "('(()()) ((())) () ((())()())',)\n",
      output: "['(()())', '((()))', '()', '((())()())']\n",
    });
    for (const problem of problems.slice(0, 8)) {
      const verdict = await judgeProgram(sandbox, problem.solutions[0], problem.tests);
      expect(verdict.passed, problem.id).toBe(true);
    }
  });

  it('converts an APPS call-based problem', async () => {
    const { problems, report } = await loadApps({
      root: resolve(dataDir, 'apps/APPS'),
      fractions: { validation: 0.1, test: 0 },
      seed: 0,
      maxSolutions: 3,
      runner: sandbox,
    });
    expect(report.dropped).toEqual({});
    const kth = problems.find((problem) => problem.id === 'apps/train/2404');
    expect(kth?.style).toBe('call-based');
    expect(kth?.entryPoint).toBe('findKthPositive');
    expect(kth?.tests).toEqual([{ input: '([2, 3, 4, 7, 11], 5)\n', output: '9\n' }]);
    const verdict = await judgeProgram(sandbox, kth?.solutions[0] ?? '', kth?.tests ?? []);
    expect(verdict.passed).toBe(true);
  });

  it('runs the stdin APPS solutions correctly', async () => {
    const { problems } = await loadApps({ root: resolve(dataDir, 'apps/APPS'), fractions: { validation: 0.1, test: 0 }, seed: 0, maxSolutions: 2 });
    for (const problem of problems) {
      for (const solution of problem.solutions) {
        const verdict = await judgeProgram(sandbox, solution, problem.tests);
        expect(verdict.passed, problem.id).toBe(true);
      }
    }
  });

  it('generator solutions print the expected outputs', async () => {
    const problems = generateProblems({ count: FAMILIES.length * 2, seed: 11, examples: 1, tests: 3, fractions: { validation: 0.1, test: 0.1 } });
    const verdicts = await Promise.all(
      problems.flatMap((problem) =>
        problem.solutions.map(async (solution) => ({
          id: problem.id,
          verdict: await judgeProgram(sandbox, solution, [...problem.examples, ...problem.tests], { stopOnFailure: false }),
        })),
      ),
    );
    for (const { id, verdict } of verdicts) expect(verdict.passedCount, id).toBe(verdict.totalCount);
  });
});
