import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApps } from './apps.js';
import { loadCodeContests } from './code-contests.js';
import { assertedFunctionName, mbppSplit } from './mbpp.js';
import { assignSplit, hashFraction } from './split.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const dataDir = resolve(repoRoot, '../shared/data');

describe('assignSplit', () => {
  it('is stable and seed dependent', () => {
    expect(assignSplit('apps/train/0001', { validation: 0.1, test: 0.1 }, 0)).toBe(assignSplit('apps/train/0001', { validation: 0.1, test: 0.1 }, 0));
    const ids = Array.from({ length: 2000 }, (_, index) => `p/${index}`);
    const splits = ids.map((id) => assignSplit(id, { validation: 0.1, test: 0.2 }, 7));
    const share = (name: string): number => splits.filter((split) => split === name).length / ids.length;
    expect(share('validation')).toBeGreaterThan(0.07);
    expect(share('validation')).toBeLessThan(0.13);
    expect(share('test')).toBeGreaterThan(0.16);
    expect(share('test')).toBeLessThan(0.24);
    expect(hashFraction('x', 1)).not.toBe(hashFraction('x', 2));
  });

  it('keeps the source test split out', () => {
    const splits = Array.from({ length: 500 }, (_, index) => assignSplit(`q/${index}`, { validation: 0.1, test: 0.3 }, 0, true));
    expect(splits).not.toContain('test');
  });

  it('rejects fractions summing to 1', () => {
    expect(() => assignSplit('a', { validation: 0.5, test: 0.5 }, 0)).toThrow(/sum to less than 1/u);
  });
});

describe('loadApps', () => {
  it('loads the stdin problems and counts the call-based one', async () => {
    const { problems, report } = await loadApps({
      root: resolve(dataDir, 'apps/APPS'),
      fractions: { validation: 0.1, test: 0 },
      seed: 0,
      maxSolutions: 3,
    });
    expect(problems.map((problem) => problem.id)).toEqual(['apps/train/0001', 'apps/train/2287']);
    expect(report.dropped).toEqual({ 'call-based problem without a Python runner': 1 });
    const first = problems[0];
    expect(first.style).toBe('stdin');
    expect(first.difficulty).toBe('interview');
    expect(first.examples).toHaveLength(1);
    expect(first.tests).toEqual([{ input: '3\n2 2 3\n4 3 7\n10 1 9\n', output: '1\n6\n-1\n' }]);
    expect(first.solutions).toHaveLength(3);
    expect(problems[1].tests).toHaveLength(3);
    for (const problem of problems) expect(['train', 'validation']).toContain(problem.split);
  });

  it('rejects a folder without splits', async () => {
    await expect(loadApps({ root: dataDir, fractions: { validation: 0.1, test: 0 }, seed: 0, maxSolutions: 1 })).rejects.toThrow(
      /no train\/ or test\/ folder/u,
    );
  });
});

describe('loadCodeContests', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sculpt-cc-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads CodeT prompts as unscored test problems', async () => {
    const { problems, report } = await loadCodeContests({
      files: [resolve(dataDir, 'code_contests/CodeContests_codet.sample.jsonl')],
      includeGeneratedTests: true,
      maxSolutions: 5,
    });
    expect(problems).toHaveLength(80);
    expect(problems[0].id).toBe('code_contests/test/1575_B. Building an Amusement Park');
    expect(problems[0].description.startsWith('Mr. Chanek lives in a city')).toBe(true);
    expect(problems[0].description).not.toContain("'''");
    expect(problems.every((problem) => problem.split === 'test' && problem.tests.length === 0)).toBe(true);
    expect(report.dropped['no hidden tests (kept for generation only)']).toBe(80);
  });

  it('reads Hugging Face rows with tests and Python 3 solutions', async () => {
    const file = join(directory, 'code_contests_train.jsonl');
    const row = {
      name: '1A. Sum',
      description: 'Add two numbers.\n\nExample\n\nInput\n\n1 2\n\nOutput\n\n3\n',
      public_tests: { input: ['1 2\n'], output: ['3\n'] },
      private_tests: { input: ['5 6\n'], output: ['11\n'] },
      generated_tests: { input: ['0 0\n', '9 1\n'], output: ['0\n', '10\n'] },
      solutions: { language: [2, 3, 1], solution: ['int main(){}', 'print(sum(map(int, input().split())))', 'print 1'] },
      difficulty: 7,
    };
    await writeFile(file, `${JSON.stringify(row)}\n`);
    const { problems } = await loadCodeContests({ files: [file], includeGeneratedTests: false, maxSolutions: 5 });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      id: 'code_contests/train/1A. Sum',
      split: 'train',
      description: 'Add two numbers.',
      examples: [{ input: '1 2\n', output: '3\n' }],
      tests: [{ input: '5 6\n', output: '11\n' }],
      solutions: ['print(sum(map(int, input().split())))'],
      difficulty: '7',
    });
    const withGenerated = await loadCodeContests({ files: [file], includeGeneratedTests: true, maxSolutions: 5 });
    expect(withGenerated.problems[0].tests).toHaveLength(3);
  });

  it('rejects a file whose name has no split', async () => {
    const file = join(directory, 'problems.jsonl');
    await writeFile(file, `${JSON.stringify({ name: 'x', description: 'd' })}\n`);
    await expect(loadCodeContests({ files: [file], includeGeneratedTests: true, maxSolutions: 1 })).rejects.toThrow(/cannot tell the split/u);
  });
});

describe('mbpp helpers', () => {
  it('uses the release split by task id', () => {
    expect(mbppSplit(5)).toBe('train');
    expect(mbppSplit(11)).toBe('test');
    expect(mbppSplit(510)).toBe('test');
    expect(mbppSplit(511)).toBe('validation');
    expect(mbppSplit(601)).toBe('train');
  });

  it('finds the asserted function', () => {
    expect(assertedFunctionName('assert count_ways(2) == 3')).toBe('count_ways');
    expect(assertedFunctionName('assert set(similar_elements((3, 4), (5, 4))) == set((4,))')).toBe('similar_elements');
    expect(assertedFunctionName('assert math.isclose(area(2), 12.56, rel_tol=0.001)')).toBe('area');
  });
});
