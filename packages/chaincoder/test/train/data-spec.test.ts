import { describe, expect, it } from 'vitest';
import type { CodeProblem } from '@sculpt/datasets';
import { checkDistinctIds, formatDataSpec, parseDataSpecs, resplitProblems } from '../../src/train/data-spec.js';

function problem(id: string, split: CodeProblem['split']): CodeProblem {
  return { id, split, description: '', examples: [], tests: [], solutions: [] } as unknown as CodeProblem;
}

describe('parseDataSpecs', () => {
  it('keeps the plain name form', () => {
    expect(parseDataSpecs(['generated-stdin'])).toEqual([{ name: 'generated-stdin', options: {} }]);
  });

  it('splits a comma list of names', () => {
    expect(parseDataSpecs(['generated-stdin, apps']).map((spec) => spec.name)).toEqual(['generated-stdin', 'apps']);
  });

  it('reads per-dataset options', () => {
    const specs = parseDataSpecs(['generated-stdin:count=600:seed=2', 'apps:dataDir=../data/APPS', 'mbpp:files=a.jsonl:files=b.jsonl:resplit=0.1']);
    expect(specs).toEqual([
      { name: 'generated-stdin', options: { count: 600, seed: 2 } },
      { name: 'apps', options: { dataDir: '../data/APPS' } },
      { name: 'mbpp', options: { files: ['a.jsonl', 'b.jsonl'] }, resplit: 0.1 },
    ]);
  });

  it('formats specs back', () => {
    const values = ['generated-stdin:count=600', 'mbpp:files=a.jsonl:files=b.jsonl:resplit=0.1'];
    expect(parseDataSpecs(values).map(formatDataSpec)).toEqual(values);
  });

  it.each([
    [[''], /needs a dataset name/u],
    [['apps:dataDir'], /expected KEY=VALUE after "apps:", got "dataDir"/u],
    [['Apps'], /"Apps" is not a dataset name/u],
    [['mbpp:resplit=1'], /resplit must be a validation fraction between 0 and 1, got "1"/u],
    [['generated-stdin:count=1:count=2'], /option count is given twice/u],
    [['apps', 'apps:dataDir=x'], /names apps twice/u],
  ])('rejects %j', (values, message) => {
    expect(() => parseDataSpecs(values)).toThrow(message);
  });
});

describe('resplitProblems', () => {
  const problems = Array.from({ length: 400 }, (_, index) => problem(`humaneval/${index}`, 'test'));

  it('holds out about the fraction', () => {
    const { train, validation } = resplitProblems(problems, 0.2, 0);
    expect(train.length + validation.length).toBe(400);
    expect(validation.length / 400).toBeGreaterThan(0.14);
    expect(validation.length / 400).toBeLessThan(0.26);
    expect(train.every((item) => item.split === 'train')).toBe(true);
    expect(validation.every((item) => item.split === 'validation')).toBe(true);
  });

  it('depends only on id and seed', () => {
    const first = resplitProblems(problems, 0.2, 3).validation.map((item) => item.id);
    const reversed = resplitProblems([...problems].reverse(), 0.2, 3).validation.map((item) => item.id);
    expect(new Set(reversed)).toEqual(new Set(first));
    const otherSeed = resplitProblems(problems, 0.2, 4).validation.map((item) => item.id);
    expect(new Set(otherSeed)).not.toEqual(new Set(first));
  });
});

describe('checkDistinctIds', () => {
  it('rejects a repeated id', () => {
    expect(() => checkDistinctIds([problem('a', 'train'), problem('a', 'validation')])).toThrow(/Problem id a occurs twice/u);
    expect(() => checkDistinctIds([problem('a', 'train'), problem('b', 'train')])).not.toThrow();
  });
});
