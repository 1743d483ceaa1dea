/**
 * The code dataset plugins (kind `dataset`; their instances are CodeDatasets).
 * MBPP, HumanEval and APPS call-based problems need a Python runner in the
 * plugin context, because their tests come from running reference solutions.
 */
import { z } from 'zod';
import { UsageError, definePlugin, type PluginContext } from '@sculpt/core';
import { loadApps } from './apps.js';
import { loadCodeContests } from './code-contests.js';
import { lazyCodeDataset } from './dataset.js';
import { generateProblems } from './generator/generator.js';
import { loadHumanEval } from './humaneval.js';
import { loadMbpp } from './mbpp.js';
import { DEFAULT_SPLIT_FRACTIONS } from './split.js';
import type { CodeDatasetContext, PythonRunner } from './types.js';

const fractionSchema = z.number().min(0).max(0.5);
const filesSchema = z.array(z.string().min(1)).min(1);

function requireRunner(context: PluginContext, dataset: string): PythonRunner {
  const runner = (context as CodeDatasetContext).runner;
  if (runner === undefined) {
    throw new UsageError(
      `The ${dataset} dataset derives its tests by running reference solutions; pass a Python sandbox (PythonSandbox from @sculpt/chaincoder) as context.runner.`,
    );
  }
  return runner;
}

export const appsPlugin = definePlugin({
  meta: {
    name: 'apps',
    kind: 'dataset',
    version: '1.0.0',
    description: 'APPS programming problems (per-problem folders), stdin and call-based',
    options: z.object({
      dataDir: z.string().min(1),
      seed: z.number().int().default(0),
      validationFraction: fractionSchema.default(DEFAULT_SPLIT_FRACTIONS.validation),
      maxSolutions: z.number().int().positive().default(5),
    }),
  },
  create(options, context) {
    const runner = (context as CodeDatasetContext).runner;
    return lazyCodeDataset('apps', () =>
      loadApps({
        root: options.dataDir,
        seed: options.seed,
        fractions: { validation: options.validationFraction, test: 0 },
        maxSolutions: options.maxSolutions,
        runner,
      }),
    );
  },
});

export const codeContestsPlugin = definePlugin({
  meta: {
    name: 'code-contests',
    kind: 'dataset',
    version: '1.0.0',
    description: 'CodeContests problems (Hugging Face rows or CodeT prompts)',
    options: z.object({
      files: filesSchema,
      includeGeneratedTests: z.boolean().default(true),
      maxSolutions: z.number().int().positive().default(5),
    }),
  },
  create(options, context) {
    return lazyCodeDataset('code-contests', () => loadCodeContests({ ...options, signal: context.signal }));
  },
});

export const mbppPlugin = definePlugin({
  meta: {
    name: 'mbpp',
    kind: 'dataset',
    version: '1.0.0',
    description: 'MBPP function problems, converted to stdin tests in the sandbox',
    options: z.object({ files: filesSchema }),
  },
  create(options, context) {
    const runner = requireRunner(context, 'mbpp');
    return lazyCodeDataset('mbpp', () => loadMbpp(options.files, runner, context.signal));
  },
});

export const humanEvalPlugin = definePlugin({
  meta: {
    name: 'humaneval',
    kind: 'dataset',
    version: '1.0.0',
    description: 'HumanEval function problems, converted to stdin tests in the sandbox',
    options: z.object({ files: filesSchema }),
  },
  create(options, context) {
    const runner = requireRunner(context, 'humaneval');
    return lazyCodeDataset('humaneval', () => loadHumanEval(options.files, runner, context.signal));
  },
});

export const generatedProblemsPlugin = definePlugin({
  meta: {
    name: 'generated-stdin',
    kind: 'dataset',
    version: '1.0.0',
    description: 'Seeded generator of small stdin problems with reference solutions (offline default)',
    options: z.object({
      count: z.number().int().positive().default(600),
      seed: z.number().int().default(0),
      examples: z.number().int().min(1).max(4).default(4),
      tests: z.number().int().positive().default(8),
      validationFraction: fractionSchema.default(DEFAULT_SPLIT_FRACTIONS.validation),
      testFraction: fractionSchema.default(DEFAULT_SPLIT_FRACTIONS.test),
    }),
  },
  create(options) {
    const problems = generateProblems({
      count: options.count,
      seed: options.seed,
      examples: options.examples,
      tests: options.tests,
      fractions: { validation: options.validationFraction, test: options.testFraction },
    });
    return lazyCodeDataset('generated-stdin', async () => ({ problems, report: { kept: problems.length, dropped: {} } }));
  },
});
