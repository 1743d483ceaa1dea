/**
 * The study configuration (`sculpt study --config study.json`) and the grid
 * of cells it expands to: calibration sets × formats × methods × sparsity
 * settings × seeds. Every cell prunes the model once and evaluates the
 * pruned model on every task; a dense baseline cell evaluates the original.
 */
import path from 'node:path';
import { UsageError } from '@sculpt/core';
import { CALIBRATION_FORMATS } from '@sculpt/datasets';
import { z } from 'zod';

const calibrationEntry = z.union([
  z.string().min(1),
  z
    .object({
      datasets: z.array(z.string().min(1)).min(1),
      label: z.string().min(1).optional(),
      /** Split to sample from; default each dataset's training split. */
      split: z.enum(['train', 'validation', 'test', 'all']).optional(),
    })
    .strict(),
]);

const methodEntry = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).default({}), label: z.string().min(1).optional() }).strict(),
]);

export const studyConfigSchema = z
  .object({
    /** Model to prune: llama2.c .bin, Hugging Face folder or ONNX file (relative to the config file). */
    model: z.string().min(1),
    /** Root of the data layout for calibration and evaluation (relative to the config file). */
    dataDir: z.string().min(1),
    /** Output folder: results.sqlite, cells/, report.md and plots/ (relative to the config file). */
    out: z.string().min(1),
    calibration: z.array(calibrationEntry).min(1),
    /** Calibration formats; a format a dataset lacks is skipped for it (pre-training corpora only have `window`). */
    formats: z.array(z.enum(CALIBRATION_FORMATS)).min(1).default(['icl']),
    methods: z.array(methodEntry).min(1),
    /** Unstructured sparsities. */
    sparsities: z.array(z.number().min(0).max(1)).default([0.5]),
    /** N:M patterns, each run at sparsity 0.5. */
    patterns: z.array(z.enum(['2:4', '4:8'])).default([]),
    seeds: z.array(z.number().int().min(0)).min(1).default([0]),
    nsamples: z.number().int().positive().default(128),
    seqlen: z.number().int().min(2).default(2048),
    mode: z.enum(['faithful', 'clean']).default('faithful'),
    /** Downstream tasks; an empty list evaluates perplexity only. */
    tasks: z.array(z.string().min(1)).default([]),
    /** Items per task (the first ones of the file); all when absent. */
    taskLimit: z.number().int().positive().optional(),
    /** Task scoring; `auto` scores classification tasks by log-likelihood and the arithmetic tasks by generation. */
    scoring: z.enum(['generate', 'loglikelihood', 'auto']).default('generate'),
    perplexity: z
      .object({
        dataset: z.string().min(1).default('wikitext2'),
        split: z.enum(['train', 'validation', 'test', 'all']).optional(),
        seqlen: z.number().int().min(2).optional(),
        maxWindows: z.number().int().positive().optional(),
      })
      .strict()
      .nullable()
      .default({ dataset: 'wikitext2' }),
    /**
     * Device for every cell's pruning passes, perplexity and task evaluation
     * (`auto` picks a hardware GPU when present, else the cpu device). When
     * absent, models run on the host path and statistics in float64.
     */
    device: z.enum(['auto', 'cpu', 'webgpu']).optional(),
    /** Keep every pruned model on disk (they are deleted after evaluation otherwise; calibration windows are always kept). */
    keepModels: z.boolean().default(false),
  })
  .strict();

export type StudyConfig = z.output<typeof studyConfigSchema>;

export interface StudyCell {
  key: string;
  dense: boolean;
  calibration: string[];
  calibrationLabel: string;
  split: 'train' | 'validation' | 'test' | 'all' | null;
  format: string | null;
  method: string;
  methodLabel: string;
  methodOptions: Record<string, unknown>;
  /** "0.5" or "2:4". */
  setting: string;
  sparsity: number;
  pattern: string | null;
  seed: number;
}

export const DENSE_KEY = 'dense';

/** Resolves the config's relative paths against the folder of the config file. */
export function resolveStudyPaths(config: StudyConfig, configFile: string | undefined): StudyConfig {
  const base = configFile === undefined ? process.cwd() : path.dirname(path.resolve(configFile));
  return { ...config, model: path.resolve(base, config.model), dataDir: path.resolve(base, config.dataDir), out: path.resolve(base, config.out) };
}

/**
 * Expands the grid. `formatsOf` returns the formats a calibration entry
 * supports; unsupported (entry, format) pairs are skipped, and an entry that
 * supports none of the requested formats is an error.
 */
export function expandCells(config: StudyConfig, formatsOf: (datasets: string[]) => readonly string[]): StudyCell[] {
  const cells: StudyCell[] = [
    { key: DENSE_KEY, dense: true, calibration: [], calibrationLabel: 'dense', split: null, format: null, method: 'dense', methodLabel: 'dense', methodOptions: {}, setting: '0', sparsity: 0, pattern: null, seed: 0 },
  ];
  const settings = [...config.sparsities.map((sparsity) => ({ setting: String(sparsity), sparsity, pattern: null as string | null })), ...config.patterns.map((pattern) => ({ setting: pattern, sparsity: 0.5, pattern }))];
  if (settings.length === 0) throw new UsageError('the study has neither sparsities nor patterns; add "sparsities": [0.5] or "patterns": ["2:4"]');

  for (const entry of config.calibration) {
    const datasets = typeof entry === 'string' ? [entry] : entry.datasets;
    const calibrationLabel = typeof entry === 'string' ? entry : (entry.label ?? entry.datasets.join('+'));
    const split = typeof entry === 'string' ? null : (entry.split ?? null);
    const supported = formatsOf(datasets);
    const formats = config.formats.filter((format) => supported.includes(format));
    const usable = formats.length > 0 ? formats : supported.includes('window') ? ['window'] : [];
    if (usable.length === 0) throw new UsageError(`calibration ${calibrationLabel} supports none of the formats ${config.formats.join(', ')} (it has ${supported.join(', ')})`);

    for (const format of usable) {
      for (const method of config.methods) {
        const name = typeof method === 'string' ? method : method.name;
        const methodLabel = typeof method === 'string' ? method : (method.label ?? method.name);
        const methodOptions = typeof method === 'string' ? {} : method.options;
        for (const { setting, sparsity, pattern } of settings) {
          for (const seed of config.seeds) {
            cells.push({
              key: [calibrationLabel, format, methodLabel, setting, `seed${seed}`].join('|'),
              dense: false,
              calibration: datasets,
              calibrationLabel,
              split,
              format,
              method: name,
              methodLabel,
              methodOptions,
              setting,
              sparsity,
              pattern,
              seed,
            });
          }
        }
      }
    }
  }
  const keys = new Set<string>();
  for (const cell of cells) {
    if (keys.has(cell.key)) throw new UsageError(`the study grid has the cell ${cell.key} twice; give repeated methods or calibration sets distinct labels`);
    keys.add(cell.key);
  }
  return cells;
}
