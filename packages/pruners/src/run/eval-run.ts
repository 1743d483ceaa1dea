/** One evaluation task on one model: load both, run the items, summarize with a Wilson interval. */
import path from 'node:path';
import { getLogger, UsageError, type Logger, type ProgressReporter, type Registry } from '@sculpt/core';
import { loadTokenizerForModel } from '@sculpt/datasets';
import { getDevice, loadModel, type DeviceRequest } from '@sculpt/runtime-gpu';
import { ModelTaskAdapter } from '../evaluation/model-adapter.js';
import { runTask, type ScoringRequest, type TaskItemResult, type TaskScoring } from '../tasks/runner.js';
import type { AccuracySummary } from '../tasks/metrics.js';

export interface EvalRunOptions {
  registry: Registry;
  modelPath: string;
  task: string;
  dataDir?: string;
  limit?: number;
  /** `auto` picks log-likelihood for tasks with answer choices and generation for the others. */
  scoring?: ScoringRequest;
  cot?: boolean;
  /** Device for the model's blocks (`auto` as `getDevice` resolves it); the host path when absent. */
  device?: DeviceRequest;
  logger?: Logger;
  progress?: ProgressReporter;
  signal?: AbortSignal;
}

export interface EvalRunResult extends AccuracySummary {
  task: string;
  model: string;
  scoring: TaskScoring;
  decoding: 'greedy' | 'none';
  cot: boolean;
  /** Device kind the blocks ran on, or "host" for the host path. */
  device: string;
  /** Prompts cut at the front to fit the model's context window. */
  truncatedPrompts: number;
  seconds: number;
  items: TaskItemResult[];
}

/** The data directory from the flag or `SCULPT_DATA_DIR`. */
export function resolveDataDir(dataDir: string | undefined): string {
  const resolved = dataDir ?? process.env.SCULPT_DATA_DIR;
  if (resolved === undefined) throw new UsageError('no data directory: pass --data-dir DIR or set SCULPT_DATA_DIR');
  return path.resolve(resolved);
}

export async function runEvalTask(options: EvalRunOptions): Promise<EvalRunResult> {
  const log = options.logger ?? getLogger('pruners:eval');
  const started = performance.now();
  const task = await options.registry.create('eval-task', options.task, { cot: options.cot ?? false }, { logger: log, signal: options.signal });
  const items = await task.loadItems(resolveDataDir(options.dataDir));

  const model = await loadModel(options.modelPath);
  try {
    const tokenizer = await loadTokenizerForModel(options.modelPath);
    const device = options.device === undefined ? undefined : await getDevice(options.device);
    if (device !== undefined) model.useDevice(device);
    const adapter = new ModelTaskAdapter(model, tokenizer);
    const total = options.limit === undefined ? items.length : Math.min(items.length, options.limit);
    const progress = options.progress?.start({ label: `eval ${options.task}`, total, unit: 'items' });
    const result = await runTask(task, adapter, items, {
      limit: options.limit,
      scoring: options.scoring,
      signal: options.signal,
      onProgress: (done) => progress?.update(done),
    });
    progress?.finish();
    if (adapter.stats.truncatedPrompts > 0) {
      log.warn(`${adapter.stats.truncatedPrompts} of ${result.items.length} prompts were longer than the model's context and lost their first demonstrations`);
    }
    return {
      task: options.task,
      model: path.resolve(options.modelPath),
      scoring: result.scoring,
      decoding: result.decoding,
      cot: options.cot ?? false,
      device: device?.kind ?? 'host',
      ...result.summary,
      truncatedPrompts: adapter.stats.truncatedPrompts,
      seconds: (performance.now() - started) / 1000,
      items: result.items,
    };
  } finally {
    await model.close();
  }
}
