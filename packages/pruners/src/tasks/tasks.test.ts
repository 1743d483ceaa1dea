import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError, Registry } from '@sculpt/core';
import type { CalibrationDataset, EvaluationItem } from '@sculpt/datasets';
import { plugins as datasetPlugins } from '@sculpt/datasets/plugins';
import { evaluateArithmetic, extractNumericAnswer, numericMatch } from './arithmetic.js';
import { summarizeAccuracy, wilsonInterval } from './metrics.js';
import { resolveScoring, runTask, type TaskModel } from './runner.js';
import { createTask, extractNliAnswer, TASK_NAMES } from './tasks.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dataDir = path.resolve(repoRoot, '../shared/data');

describe('arithmetic answers', () => {
  it('evaluates with Python precedence', () => {
    expect(evaluateArithmetic('( 10.0 - 7.0 )')).toBe(3);
    expect(evaluateArithmetic('-2**2')).toBe(-4);
    expect(evaluateArithmetic('2**-1')).toBe(0.5);
    expect(evaluateArithmetic('7 // 2 + 7 % 2')).toBe(4);
    expect(evaluateArithmetic('1,000 + 1')).toBe(1001);
    expect(evaluateArithmetic('3 bolts')).toBeNull();
    expect(evaluateArithmetic('1/0')).toBeNull();
    expect(evaluateArithmetic('')).toBeNull();
  });

  it('extracts before the blank line and after ####', () => {
    expect(extractNumericAnswer(' 15\n\nQuestion: next')).toBe('15');
    expect(extractNumericAnswer('6 rolls left\n#### 6\n\nQuestion')).toBe('6');
    expect(numericMatch('3', '( 10.0 - 7.0 )')).toBe(true);
    expect(numericMatch('0.1+0.2', '0.3')).toBe(true);
    expect(numericMatch('4', '( 10.0 - 7.0 )')).toBe(false);
  });
});

describe('label extraction', () => {
  it('NLI plain and CoT', () => {
    expect(extractNliAnswer(' neutral\n\nPremise: x', false)).toBe('neutral');
    expect(extractNliAnswer(' They differ. So the answer is contradiction.\n\nPremise', true)).toBe('contradiction');
    expect(extractNliAnswer(' no marker here', true)).toBe('');
  });

  it('letters compare case-insensitively on the first line', () => {
    const task = createTask('commonsense_qa');
    const prediction = task.extractAnswer(' b\nQuestion: more');
    expect(prediction).toBe('b');
    expect(task.isCorrect(prediction, 'B')).toBe(true);
    expect(task.isCorrect(task.extractAnswer(' B. scissors'), 'B')).toBe(false);
  });
});

describe('Wilson interval', () => {
  it('matches the closed form', () => {
    const { lower, upper } = wilsonInterval(8, 10);
    expect(lower).toBeCloseTo(0.4902, 4);
    expect(upper).toBeCloseTo(0.9433, 4);
    expect(wilsonInterval(0, 0)).toEqual({ lower: 0, upper: 1 });
    const summary = summarizeAccuracy(0, 5);
    expect(summary.lower).toBe(0);
    expect(summary.upper).toBeGreaterThan(0.4);
  });
});

describe('task prompts on the shared data', () => {
  it('GSM8K prompt has 3 shots then the question', async () => {
    const task = createTask('gsm8k');
    const items = await task.loadItems(dataDir);
    expect(items.length).toBe(250);
    expect(items[0].label).toBe('3');
    const prompt = task.buildPrompt(items[0]);
    expect(prompt.split('\n\n')).toHaveLength(4);
    expect(prompt.endsWith('How many bolts in total does it take?\nAnswer:')).toBe(true);
  });

  it('SVAMP uses the GSM8K shots and the equation label', async () => {
    const task = createTask('svamp');
    const [first] = await task.loadItems(dataDir);
    expect(first.label).toBe('( 10.0 - 7.0 )');
    expect(task.buildPrompt(first)).toContain('A baker fills 4 trays');
  });

  it('RACE options leave a blank line before Answer', async () => {
    const task = createTask('race');
    const items = await task.loadItems(dataDir);
    expect(items.length).toBeGreaterThan(80);
    expect(items[0].query).toMatch(/\nD\. [^\n]*\n\nAnswer: $/);
  });

  it('every task loads its data or names the missing file', async () => {
    for (const name of TASK_NAMES) {
      const task = createTask(name);
      if (name === 'anli_r2') {
        await expect(task.loadItems(dataDir)).rejects.toThrow(/no test data for task anli_r2/);
        continue;
      }
      const items = await task.loadItems(dataDir);
      expect(items.length, name).toBeGreaterThan(0);
      for (const item of items) expect(item.label, `${name} ${item.id}`).not.toBe('');
    }
  });

  it('CoT is rejected where the task has none', () => {
    expect(() => createTask('race', { cot: true })).toThrow(/no chain-of-thought form/);
    expect(createTask('gsm8k', { cot: true }).buildPrompt({ id: 'x', query: 'Question: q\nAnswer: ', label: '1' })).toContain('#### 15');
  });
});

describe('task runner', () => {
  it('scores generations and log-likelihood choices', async () => {
    const task = createTask('winogrande');
    const items = await task.loadItems(dataDir);
    // A model that always answers option 1.
    const model: TaskModel = {
      generate: async () => ' 1\nSentence: …',
      logLikelihood: async (_context, continuation) => (continuation === ' 1' ? -1 : -2),
    };
    const generated = await runTask(task, model, items);
    const scored = await runTask(task, model, items, { scoring: 'loglikelihood' });
    const expected = items.filter((item) => item.label === '1').length;
    expect(generated.summary.correct).toBe(expected);
    expect(scored.summary.correct).toBe(expected);
    expect(generated.decoding).toBe('greedy');
    await expect(runTask(task, model, items, { limit: 0 })).rejects.toThrow(/positive integer/);
  });

  it('auto scoring follows answer choices', async () => {
    const winogrande = await createTask('winogrande').loadItems(dataDir);
    const gsm8k = await createTask('gsm8k').loadItems(dataDir);
    const scorer: TaskModel = { generate: async () => '', logLikelihood: async () => 0 };
    const generator: TaskModel = { generate: async () => '' };
    expect(resolveScoring('auto', winogrande, scorer)).toBe('loglikelihood');
    expect(resolveScoring('auto', gsm8k, scorer)).toBe('generate');
    expect(resolveScoring('auto', winogrande, generator)).toBe('generate');
    expect(resolveScoring('generate', winogrande, scorer)).toBe('generate');

    const result = await runTask(createTask('winogrande'), scorer, winogrande, { scoring: 'auto', limit: 3 });
    expect(result.scoring).toBe('loglikelihood');
    expect(result.decoding).toBe('none');
  });
});

describe('task items from datasets', () => {
  it('match evaluationItems on the samples', async () => {
    const registry = new Registry({ manifests: [], entries: datasetPlugins });
    for (const name of ['gsm8k', 'esnli', 'commonsense_qa'] as const) {
      const items = await createTask(name).loadItems(dataDir);
      const source = (await registry.create('dataset', name, { dataDir, hub: false })) as CalibrationDataset;
      const expected: EvaluationItem[] = [];
      for await (const item of source.evaluationItems()) expected.push(item);
      expect(items.length, name).toBe(expected.length);
      expect(items.map((item) => item.query), name).toEqual(expected.map((item) => item.prompt));
      expect(items.map((item) => item.label), name).toEqual(expected.map((item) => item.answer));
    }
  });

  it('keeps letter choices for log-likelihood', async () => {
    const [first] = await createTask('commonsense_qa').loadItems(dataDir);
    expect(first.choices).toEqual([' A', ' B', ' C', ' D', ' E']);
  });

  it('rejects a malformed record with its file', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sculpt-task-items-'));
    try {
      mkdirSync(path.join(folder, 'gsm8k'));
      const file = path.join(folder, 'gsm8k', 'test.jsonl');
      writeFileSync(file, `${JSON.stringify({ question: 'What is 1 + 1?', answer: 'two' })}\n`);
      const error = await createTask('gsm8k')
        .loadItems(folder)
        .catch((caught: unknown) => caught as Error);
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toMatch(/####/);
      expect((error as Error).message).toContain(file);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
