/**
 * Runs a calibration study grid against one model, one cell at a time, with
 * results in a SQLite store (`OUT/results.sqlite`). A study killed midway
 * resumes where it stopped when started again with the same configuration:
 * finished cells are never redone. Each cell keeps its calibration windows
 * (`OUT/cells/<cell>/model.bin.calibration.json`) and prune report.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { configHash, getLogger, ResultsStore, runUnits, UsageError, type Logger, type MetricInput, type ProgressReporter, type Registry } from '@sculpt/core';
import { loadTokenizerForModel, type CalibrationDataset, type CalibrationFormat } from '@sculpt/datasets';
import { detectModelFormat } from '@sculpt/runtime-gpu';
import { runEvalTask } from '../run/eval-run.js';
import type { TaskScoring } from '../tasks/runner.js';
import { runPrune } from '../run/prune-run.js';
import { DENSE_KEY, expandCells, type StudyCell, type StudyConfig } from './config.js';
import { modelPerplexity, perplexityTokens } from './perplexity.js';
import { writeStudyReport, type StudyReportFiles } from './report.js';

export const STUDY_RUN_KIND = 'pruning-study';

/** What one finished cell stores as its unit result. */
export interface CellResult {
  cell: StudyCell;
  perplexity: number | null;
  /** Per task; `scoring` is the one used (what `auto` resolved to), absent in results stored before it was recorded. */
  tasks: Record<string, { accuracy: number; correct: number; total: number; lower: number; upper: number; scoring?: TaskScoring }>;
  actualSparsity: number;
  pruneSeconds: number;
  peakMemoryBytes: number;
  calibrationPath: string | null;
}

export interface StudyOptions {
  config: StudyConfig;
  registry: Registry;
  logger?: Logger;
  progress?: ProgressReporter;
  signal?: AbortSignal;
}

export interface StudySummary {
  runId: number;
  store: string;
  cells: number;
  executed: string[];
  reused: number;
  report: StudyReportFiles;
}

function cellFolder(out: string, key: string): string {
  return path.join(out, 'cells', key.replace(/[^A-Za-z0-9._+-]+/g, '_'));
}

/** The pruned model's file name: llama2.c and ONNX are single files, Hugging Face models are folders. */
function prunedModelPath(folder: string, modelPath: string, format: string): string {
  if (format === 'hf') return path.join(folder, 'model');
  return path.join(folder, path.basename(modelPath));
}

async function calibrationFormats(registry: Registry, dataDir: string, datasets: string[]): Promise<string[]> {
  let shared: string[] | undefined;
  for (const name of datasets) {
    const options = name === 'ellipses' || name === 'random' ? {} : { dataDir, hub: false };
    const created: unknown = await registry.create('dataset', name, options);
    const formats: string[] = [...(created as CalibrationDataset).formats];
    shared = shared === undefined ? formats : shared.filter((format) => (formats as string[]).includes(format));
  }
  return shared ?? [];
}

/** Finds this config's run: resumes an interrupted one, reuses a finished one, or creates a new one. */
function openRun(store: ResultsStore, config: StudyConfig, keys: string[], log: Logger): { runId: number; finished: boolean } {
  const resumable = store.findResumable(STUDY_RUN_KIND, config);
  if (resumable !== undefined) {
    store.resumeRun(resumable.id);
    store.planUnits(resumable.id, keys);
    const done = store.units(resumable.id, 'done').length;
    log.info(`resuming study run ${resumable.id}: ${done} of ${keys.length} cells already done`);
    return { runId: resumable.id, finished: false };
  }
  const hash = configHash(config);
  const existing = store.listRuns({ kind: STUDY_RUN_KIND }).filter((run) => run.configHash === hash);
  const running = existing.find((run) => run.status === 'running');
  if (running !== undefined) throw new UsageError(`study run ${running.id} with this configuration is still running (process ${running.pid} on ${running.host})`);
  const finished = existing.find((run) => run.status === 'done');
  if (finished !== undefined) {
    log.info(`study run ${finished.id} with this configuration already finished; rebuilding its report`);
    return { runId: finished.id, finished: true };
  }
  return { runId: store.createRun(STUDY_RUN_KIND, config, keys).id, finished: false };
}

export async function runStudy(options: StudyOptions): Promise<StudySummary> {
  const { config, registry } = options;
  const log = options.logger ?? getLogger('pruners:study');
  await mkdir(config.out, { recursive: true });

  const formatCache = new Map<string, string[]>();
  for (const entry of config.calibration) {
    const datasets = typeof entry === 'string' ? [entry] : entry.datasets;
    formatCache.set(datasets.join(','), await calibrationFormats(registry, config.dataDir, datasets));
  }
  const cells = expandCells(config, (datasets) => formatCache.get(datasets.join(','))!);
  const byKey = new Map(cells.map((cell) => [cell.key, cell]));

  // Everything that can fail on bad input happens before the run is recorded.
  const tokenizer = await loadTokenizerForModel(config.model);
  const format = await detectModelFormat(config.model);
  const pplTokens = config.perplexity === null ? null : await perplexityTokens(registry, config.perplexity.dataset, config.dataDir, tokenizer, config.perplexity.split);

  const store = ResultsStore.open(path.join(config.out, 'results.sqlite'));
  try {
    const { runId, finished } = openRun(store, config, cells.map((cell) => cell.key), log);
    let executed: string[] = [];
    if (!finished) {
      const summary = await runUnits(
        store,
        runId,
        async (key, signal) => {
          const cell = byKey.get(key);
          if (cell === undefined) throw new UsageError(`study run ${runId} has a cell ${key} that this configuration does not define`);
          const result = await runCell(cell, config, registry, format, pplTokens, log, options.progress, signal);
          return { result, metrics: cellMetrics(result) };
        },
        { signal: options.signal, progress: options.progress, label: 'study cells' },
      );
      executed = summary.executed;
    }

    const results = store
      .units(runId, 'done')
      .map((unit) => unit.result as CellResult)
      .filter((result) => result !== null && result !== undefined);
    const report = await writeStudyReport(config, results);
    return { runId, store: store.file, cells: cells.length, executed, reused: results.length - executed.length, report };
  } finally {
    store.close();
  }
}

function cellMetrics(result: CellResult): MetricInput[] {
  const tags = {
    calibration: result.cell.calibrationLabel,
    format: result.cell.format ?? 'none',
    method: result.cell.methodLabel,
    setting: result.cell.setting,
    seed: result.cell.seed,
  };
  const metrics: MetricInput[] = [{ name: 'actual_sparsity', value: result.actualSparsity, tags }];
  if (result.perplexity !== null) metrics.push({ name: 'perplexity', value: result.perplexity, tags });
  for (const [task, summary] of Object.entries(result.tasks)) metrics.push({ name: `accuracy:${task}`, value: summary.accuracy, tags });
  return metrics;
}

async function runCell(
  cell: StudyCell,
  config: StudyConfig,
  registry: Registry,
  modelFormat: string,
  pplTokens: number[] | null,
  log: Logger,
  progress: ProgressReporter | undefined,
  signal: AbortSignal | undefined,
): Promise<CellResult> {
  log.info(`study cell ${cell.key}`);
  let modelPath = config.model;
  let actualSparsity = 0;
  let pruneSeconds = 0;
  let peakMemoryBytes = 0;
  let calibrationPath: string | null = null;
  const folder = cellFolder(config.out, cell.key);

  if (cell.key !== DENSE_KEY) {
    await mkdir(folder, { recursive: true });
    modelPath = prunedModelPath(folder, config.model, modelFormat);
    const pruned = await runPrune({
      registry,
      modelPath: config.model,
      method: cell.method,
      methodOptions: cell.methodOptions,
      sparsity: cell.sparsity,
      pattern: cell.pattern ?? undefined,
      calibration: cell.calibration,
      split: cell.split ?? undefined,
      format: (cell.format ?? undefined) as CalibrationFormat | undefined,
      dataDir: config.dataDir,
      nsamples: config.nsamples,
      seqlen: config.seqlen,
      seed: cell.seed,
      out: modelPath,
      mode: config.mode,
      device: config.device,
      force: true,
      signal,
    });
    actualSparsity = pruned.actualSparsity;
    pruneSeconds = pruned.seconds;
    peakMemoryBytes = pruned.peakMemoryBytes;
    calibrationPath = pruned.calibrationPath;
  }

  let perplexity: number | null = null;
  if (pplTokens !== null && config.perplexity !== null) {
    perplexity = (await modelPerplexity(modelPath, pplTokens, config.perplexity.seqlen ?? config.seqlen, { maxWindows: config.perplexity.maxWindows, device: config.device })).perplexity;
  }

  const tasks: CellResult['tasks'] = {};
  for (const task of config.tasks) {
    const result = await runEvalTask({ registry, modelPath, task, dataDir: config.dataDir, limit: config.taskLimit, scoring: config.scoring, device: config.device, progress, signal });
    tasks[task] = { accuracy: result.accuracy, correct: result.correct, total: result.total, lower: result.lower, upper: result.upper, scoring: result.scoring };
  }

  if (cell.key !== DENSE_KEY && !config.keepModels) await rm(modelPath, { recursive: true, force: true });
  return { cell, perplexity, tasks, actualSparsity, pruneSeconds, peakMemoryBytes, calibrationPath };
}
