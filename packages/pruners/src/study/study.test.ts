import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandCells, studyConfigSchema, type StudyConfig } from './config.js';
import { groupResults, markdownReport, mean, standardDeviation, writeStudyReport } from './report.js';
import type { CellResult } from './runner.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sculpt-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(overrides: Record<string, unknown> = {}): StudyConfig {
  return studyConfigSchema.parse({
    model: 'm.bin',
    dataDir: 'data',
    out: dir,
    calibration: ['c4', 'gsm8k'],
    formats: ['icl', 'cot'],
    methods: ['wanda', 'sparsegpt'],
    sparsities: [0.5, 0.6],
    patterns: ['2:4'],
    seeds: [0, 1],
    tasks: ['gsm8k'],
    ...overrides,
  });
}

const formats = (datasets: string[]) => (datasets[0] === 'c4' ? ['window'] : ['zero', 'single', 'icl', 'cot']);

describe('study grid', () => {
  it('expands every combination once', () => {
    const cells = expandCells(config(), formats);
    // dense + c4 (window only) + gsm8k (icl, cot), each × 2 methods × 3 settings × 2 seeds.
    expect(cells).toHaveLength(1 + 3 * 2 * 3 * 2);
    expect(cells[0].key).toBe('dense');
    expect(cells.filter((cell) => cell.calibrationLabel === 'c4').every((cell) => cell.format === 'window')).toBe(true);
    expect(new Set(cells.map((cell) => cell.key)).size).toBe(cells.length);
    const nm = cells.find((cell) => cell.pattern === '2:4')!;
    expect(nm.sparsity).toBe(0.5);
  });

  it('rejects duplicate labels and empty settings', () => {
    expect(() => expandCells(config({ methods: ['wanda', 'wanda'] }), formats)).toThrow(/twice/);
    expect(() => expandCells(config({ sparsities: [], patterns: [] }), formats)).toThrow(/neither sparsities nor patterns/);
    expect(() => studyConfigSchema.parse({ ...config(), calibration: [] })).toThrow();
  });
});

function result(calibration: string, seed: number, perplexity: number, accuracy: number, method = 'wanda'): CellResult {
  const dense = method === 'dense';
  return {
    cell: {
      key: dense ? 'dense' : `${calibration}|icl|${method}|0.5|seed${seed}`,
      dense,
      calibration: dense ? [] : [calibration],
      calibrationLabel: dense ? 'dense' : calibration,
      split: null,
      format: dense ? null : 'icl',
      method,
      methodLabel: method,
      methodOptions: {},
      setting: dense ? '0' : '0.5',
      sparsity: dense ? 0 : 0.5,
      pattern: null,
      seed,
    },
    perplexity,
    tasks: { gsm8k: { accuracy, correct: Math.round(accuracy * 10), total: 10, lower: 0, upper: 1 } },
    actualSparsity: dense ? 0 : 0.5,
    pruneSeconds: 1,
    peakMemoryBytes: 1,
    calibrationPath: null,
  };
}

describe('study report', () => {
  const results = [result('', 0, 10, 0.5, 'dense'), result('c4', 0, 12, 0.3), result('c4', 1, 14, 0.5), result('gsm8k', 0, 11, 0.4)];

  it('computes mean and sample deviation', () => {
    expect(mean([12, 14])).toBe(13);
    expect(standardDeviation([12, 14])).toBeCloseTo(Math.SQRT2, 12);
    expect(standardDeviation([3])).toBe(0);
  });

  it('writes one row per calibration set', () => {
    const rows = groupResults(results);
    const c4 = rows.find((row) => row.calibration === 'c4')!;
    expect(c4.seeds).toBe(2);
    expect(c4.perplexity).toEqual([12, 14]);
    const markdown = markdownReport(config({ seeds: [0, 1] }), rows);
    expect(markdown).toContain('## wanda @ 50%');
    expect(markdown).toContain('| dense |  | 10.00 | 50.0 |');
    expect(markdown).toContain('| c4 | icl | 13.00 ± 1.41 | 40.0 ± 14.1 |');
    expect(markdown).toContain('| gsm8k | icl | 11.00 | 40.0 |');
    expect(markdown).toContain('Greedy generation with answer extraction: gsm8k');
    expect(markdown).toContain('Perplexity on wikitext2, its default split, all windows of 2048 tokens.');
  });

  it('names each task scoring', () => {
    const study = config({ tasks: ['gsm8k', 'winogrande'], scoring: 'auto', taskLimit: 8 });
    const markdown = markdownReport(study, groupResults(results), new Map([['gsm8k', 'generate'], ['winogrande', 'loglikelihood']]));
    expect(markdown).toContain('Greedy generation with answer extraction on the first 8 items: gsm8k');
    expect(markdown).toContain('Log-likelihood of the answer choices on the first 8 items: winogrande.');
  });

  it('renders plots to SVG and PNG', async () => {
    const files = await writeStudyReport(config({ sparsities: [0.5] }), results);
    expect(files.plots.map((file) => path.basename(file))).toEqual(['perplexity.svg', 'perplexity.png', 'accuracy.svg', 'accuracy.png']);
    expect(readFileSync(files.plots[0], 'utf8')).toContain('<svg');
    expect(readFileSync(files.plots[1]).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(files.markdown, 'utf8')).toContain('![perplexity](plots/perplexity.svg)');
  });
});
