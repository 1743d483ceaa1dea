/**
 * A training run in an output folder: checkpoints in `checkpoint/`, step and
 * validation metrics in `results.sqlite` (core's ResultsStore), the loss
 * curve in `loss-curve.svg`, and the S3 → S4 co-occurrence table that the
 * coarse-to-fine decoder needs in `cooccurrence.json`. With `resume`, the run
 * continues from the checkpoint exactly where it stopped.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ResultsStore, UsageError, getLogger, writeFileAtomic, type MetricInput } from '@sculpt/core';
import type { CodeProblem } from '@sculpt/datasets';
import type { Device } from '@sculpt/runtime-gpu';
import type { ActivationDType } from '../model/model.js';
import { buildCooccurrence } from '../decode/coarse-to-fine.js';
import { outputLayout } from '../decode/generate.js';
import { SEGMENT_NAMES } from '../eval/metrics.js';
import { descriptionPoolingOf, miniatureConfig, type ChainCoderConfig, type OnnxDescriptionEncoderConfig } from '../model/config.js';
import { openDescriptionEncoder, type DescriptionEncoderFiles } from '../model/description-encoder-files.js';
import { DescriptionFeatureCache } from '../model/description-features.js';
import { OnnxDescriptionEncoder } from '../model/onnx-description.js';
import { buildCodeVocabularies, prepareProblems, type CodeVocabularies, type PreparedProblem } from '../model/features.js';
import { ChainCoderModel } from '../model/model.js';
import { STATE_FILE, loadCheckpoint, type Checkpoint } from './checkpoint.js';
import { MINIATURE_CURRICULUM } from './curriculum.js';
import { targetIds } from './experiment.js';
import { writeLossCurve, type LossPoint } from './loss-curve.js';
import { Trainer, type StepRecord, type ValidationMetrics } from './trainer.js';

const log = getLogger('chaincoder:train-run');

export const CHECKPOINT_DIR = 'checkpoint';
export const RESULTS_FILE = 'results.sqlite';
export const LOSS_CURVE_FILE = 'loss-curve.svg';
export const COOCCURRENCE_FILE = 'cooccurrence.json';
export const TRAIN_RUN_KIND = 'chaincoder-train';

export type ModelSizes = Partial<Omit<ChainCoderConfig, 'inputVocab' | 'outputVocab' | 'descriptionVocab'>>;

/** Options that fix the sequence of updates; a resumed run takes them from the checkpoint. */
export interface RunSettings {
  /** Instances per micro-batch. */
  batchSize: number;
  peakLr: number;
  warmupSteps: number;
  seed: number;
  maxGradNorm: number;
  /** The `--data` specs of the training data. */
  data: string[];
  /** Micro-batches per update; absent (checkpoints written before accumulation existed) means 1. */
  accumulate?: number;
  /** Activation storage type; absent means f32. */
  activations?: ActivationDType;
}

export interface TrainingRunOptions extends RunSettings {
  device: Device;
  out: string;
  train: CodeProblem[];
  validation: CodeProblem[];
  /** Overrides of the miniature configuration (ignored on resume: the checkpoint's config is used). */
  model: ModelSizes;
  /** Total optimizer updates of the run, counted from step 0. */
  steps: number;
  resume: boolean;
  checkpointEvery: number;
  validateEvery: number;
  /**
   * A frozen ONNX description encoder in place of the trainable one (a new
   * run only). On resume these paths replace the recorded ones, and the files
   * must have the recorded SHA-256.
   */
  descriptionEncoder?: DescriptionEncoderPaths;
  signal?: AbortSignal;
}

export interface DescriptionEncoderPaths {
  /** The ONNX file. */
  model?: string;
  /** Its Hugging Face tokenizer.json. */
  tokenizer?: string;
  /** Tokens kept per description (default: the model's maxDescriptionLength override, else 512). */
  maxLength?: number;
}

export interface TrainingRunReport {
  out: string;
  checkpoint: string;
  resultsFile: string;
  lossCurve: string;
  runId: number;
  resumedFromStep: number | null;
  parameters: number;
  trainProblems: number;
  validationProblems: number;
  steps: number;
  /** Training loss of the first and the last update done in this process (null when none ran). */
  firstLoss: number | null;
  lastLoss: number | null;
  validation: ValidationMetrics;
}

function validationMetricInputs(step: number, metrics: ValidationMetrics): MetricInput[] {
  const inputs: MetricInput[] = [{ name: 'validation/loss', value: metrics.loss, step }];
  for (const name of SEGMENT_NAMES) {
    const segment = metrics.segments[name];
    if (Number.isNaN(segment.loss)) continue;
    inputs.push({ name: `validation/${name}/loss`, value: segment.loss, step });
    inputs.push({ name: `validation/${name}/accuracy`, value: segment.accuracy, step });
  }
  return inputs;
}

/** Opens the run's store entry: a new run, or the interrupted one recorded in the checkpoint. */
function openRun(store: ResultsStore, checkpoint: Checkpoint | null, config: unknown): number {
  const previous = checkpoint?.state.run.resultsRunId;
  if (typeof previous === 'number') {
    store.detectInterrupted();
    const run = store.getRun(previous);
    if (run.status === 'interrupted' || run.status === 'failed') return store.resumeRun(previous).id;
    if (run.status === 'running') throw new UsageError(`Run ${previous} in ${store.file} is still running (process ${run.pid}); stop it before resuming.`);
  }
  return store.createRun(TRAIN_RUN_KIND, config).id;
}

/** Collects the loss curve of every run in the store; a step recorded twice (after a resume) keeps its last value. */
function lossPoints(store: ResultsStore): LossPoint[] {
  const series = new Map<string, Map<number, number>>();
  for (const run of store.listRuns({ kind: TRAIN_RUN_KIND }).sort((a, b) => a.id - b.id)) {
    for (const [name, label] of [['train/loss', 'training'], ['validation/loss', 'validation']] as const) {
      const points = series.get(label) ?? new Map<number, number>();
      for (const metric of store.metrics(run.id, { name })) if (metric.step !== null) points.set(metric.step, metric.value);
      series.set(label, points);
    }
  }
  return [...series].flatMap(([label, points]) => [...points].sort(([a], [b]) => a - b).map(([step, loss]) => ({ step, loss, series: label })));
}

/** Logs each requested setting that differs from the checkpoint's, because a resumed run keeps the checkpoint's. */
function warnIgnoredSettings(saved: RunSettings, requested: RunSettings): void {
  const withDefaults = (settings: RunSettings): Record<string, unknown> => ({ ...settings, accumulate: settings.accumulate ?? 1, activations: settings.activations ?? 'f32' });
  const before = withDefaults(saved);
  const after = withDefaults(requested);
  for (const key of ['batchSize', 'accumulate', 'activations', 'peakLr', 'warmupSteps', 'seed', 'maxGradNorm', 'data'] as const) {
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    log.warn(`Resuming keeps the checkpoint's ${key} ${JSON.stringify(before[key])}; the requested ${JSON.stringify(after[key])} is ignored.`);
  }
}

export async function runTraining(options: TrainingRunOptions): Promise<TrainingRunReport> {
  const checkpointDir = join(options.out, CHECKPOINT_DIR);
  const hasCheckpoint = existsSync(join(checkpointDir, STATE_FILE));
  if (hasCheckpoint && !options.resume) {
    throw new UsageError(`${options.out} already contains a checkpoint; pass --resume to continue it or choose another --out.`);
  }
  if (!hasCheckpoint && options.resume) log.info(`No checkpoint in ${checkpointDir}; starting a new run.`);
  const checkpoint = hasCheckpoint ? await loadCheckpoint(checkpointDir) : null;
  await mkdir(options.out, { recursive: true });

  const settings: RunSettings = checkpoint === null
    ? {
        batchSize: options.batchSize,
        peakLr: options.peakLr,
        warmupSteps: options.warmupSteps,
        seed: options.seed,
        maxGradNorm: options.maxGradNorm,
        data: options.data,
        accumulate: options.accumulate ?? 1,
        activations: options.activations ?? 'f32',
      }
    : (checkpoint.state.run.settings as RunSettings);
  if (checkpoint !== null) warnIgnoredSettings(settings, options);
  const sizes = { ...miniatureConfig({ inputVocab: 1, outputVocab: 1, descriptionVocab: 1 }), ...options.model };
  const maxTargetLength = checkpoint?.state.config.maxTargetLength ?? sizes.maxTargetLength;
  const tokenizer = { mode: 'lossless' as const };
  // The encoder files are checked before the data is prepared, which can take minutes.
  const encoder = await openRunDescriptionEncoder(options, checkpoint, checkpointDir);
  let train: PreparedProblem[];
  let validation: PreparedProblem[];
  try {
    train = (await prepareProblems(options.train, { tokenizer, includeHiddenTests: true, maxTargetLength })).prepared;
    validation = (await prepareProblems(options.validation, { tokenizer, includeHiddenTests: false, maxTargetLength })).prepared;
    if (validation.length === 0) throw new UsageError('The validation split has no usable problems; use more problems (e.g. --set count=200).');
  } catch (error) {
    await encoder?.encoder.dispose();
    throw error;
  }

  // The vocabularies come from the training split, or from the checkpoint when resuming.
  const vocabularies: CodeVocabularies = checkpoint?.vocabularies ?? buildCodeVocabularies(train, { mode: 'lossless' });
  const config: ChainCoderConfig = checkpoint?.state.config ?? {
    ...sizes,
    inputVocab: vocabularies.input.size,
    outputVocab: vocabularies.output.size,
    descriptionVocab: vocabularies.description.size + 2,
    ...(encoder === null ? {} : { descriptionEncoder: encoder.config }),
  };
  if (encoder !== null) {
    // The encoder is frozen, so its pooled features are computed once here and the session is closed.
    try {
      const cache = new DescriptionFeatureCache(encoder.encoder, descriptionPoolingOf(config));
      await cache.attach(train);
      await cache.attach(validation);
    } finally {
      await encoder.encoder.dispose();
    }
  }
  const cooccurrence = buildCooccurrence(targetIds(vocabularies, train), outputLayout(vocabularies.output));
  await writeFileAtomic(join(options.out, COOCCURRENCE_FILE), JSON.stringify([...cooccurrence].map(([layout, accessories]) => [layout, [...accessories]])) + '\n');

  const model = new ChainCoderModel(options.device, config, settings.seed);
  if (checkpoint !== null) model.loadWeights(checkpoint.weights, join(checkpointDir, 'weights.safetensors'));
  const trainer = new Trainer(model, train, vocabularies, {
    steps: options.steps,
    batchSize: settings.batchSize,
    accumulate: settings.accumulate ?? 1,
    activations: settings.activations ?? 'f32',
    seed: settings.seed,
    schedule: { peakLr: settings.peakLr, warmupSteps: settings.warmupSteps, initialLr: 1e-7 },
    curriculum: MINIATURE_CURRICULUM,
    maxGradNorm: settings.maxGradNorm,
    signal: options.signal,
  });
  if (checkpoint !== null) await trainer.restore(checkpoint);

  const store = ResultsStore.open(join(options.out, RESULTS_FILE));
  const runId = openRun(store, checkpoint, { ...settings, config });
  const records: StepRecord[] = [];
  let savedStep = checkpoint?.state.step ?? -1;
  const save = async (): Promise<void> => {
    if (savedStep === trainer.step) return;
    savedStep = trainer.step;
    await trainer.saveCheckpoint(checkpointDir, { settings, resultsRunId: runId }, encoder?.files);
    log.info(() => `Checkpoint at step ${trainer.step} written to ${checkpointDir}`);
  };
  try {
    log.info(() => `Training ${model.parameterCount()} parameters on ${train.length} problems from step ${trainer.step} to ${options.steps}`);
    while (trainer.step < options.steps) {
      const until = Math.min(options.steps, (Math.floor(trainer.step / options.checkpointEvery) + 1) * options.checkpointEvery);
      const done = await trainer.run((record) => {
        store.addMetrics(runId, [
          { name: 'train/loss', value: record.loss, step: record.step },
          { name: 'train/lr', value: record.lr, step: record.step },
          { name: 'train/io_samples', value: record.ioSamples, step: record.step },
        ]);
        if (record.step % 10 === 0) log.info(() => `step ${record.step}: loss ${record.loss.toFixed(4)}`);
      }, until);
      records.push(...done);
      store.heartbeat(runId);
      if (trainer.step % options.validateEvery === 0 && trainer.step < options.steps) {
        store.addMetrics(runId, validationMetricInputs(trainer.step, await trainer.validationMetrics(validation)));
      }
      await save();
    }
    const metrics = await trainer.validationMetrics(validation);
    store.addMetrics(runId, validationMetricInputs(trainer.step, metrics));
    await save();
    store.finishRun(runId);

    const lossCurve = join(options.out, LOSS_CURVE_FILE);
    await writeLossCurve(lossCurve, lossPoints(store), `ChainCoder training (${model.parameterCount()} parameters)`);
    return {
      out: options.out,
      checkpoint: checkpointDir,
      resultsFile: store.file,
      lossCurve,
      runId,
      resumedFromStep: checkpoint?.state.step ?? null,
      parameters: model.parameterCount(),
      trainProblems: train.length,
      validationProblems: validation.length,
      steps: trainer.step,
      firstLoss: records[0]?.loss ?? null,
      lastLoss: records.at(-1)?.loss ?? null,
      validation: metrics,
    };
  } catch (error) {
    if (options.signal?.aborted) store.interruptRun(runId, 'aborted');
    else store.failRun(runId, error);
    throw error;
  } finally {
    store.close();
    trainer.dispose();
    model.dispose();
  }
}

interface RunDescriptionEncoder {
  encoder: OnnxDescriptionEncoder;
  config: OnnxDescriptionEncoderConfig;
  files: DescriptionEncoderFiles;
}

/**
 * Opens the run's ONNX description encoder: the requested files for a new
 * run, or the checkpoint's (recorded or given again, with matching SHA-256)
 * on resume. Returns null for the trainable description encoder.
 */
async function openRunDescriptionEncoder(options: TrainingRunOptions, checkpoint: Checkpoint | null, checkpointDir: string): Promise<RunDescriptionEncoder | null> {
  const requested = options.descriptionEncoder;
  const filesRequested = requested !== undefined && (requested.model !== undefined || requested.tokenizer !== undefined);
  let encoder: OnnxDescriptionEncoder;
  if (checkpoint !== null) {
    const saved = checkpoint.state.config.descriptionEncoder;
    if (saved === undefined) {
      if (filesRequested) throw new UsageError(`The checkpoint in ${checkpointDir} was trained with the trainable description encoder; an ONNX description encoder cannot be added on resume. Drop --description-onnx and --description-tokenizer, or start a new run in another --out.`);
      return null;
    }
    encoder = await openDescriptionEncoder({
      config: saved,
      recorded: checkpoint.state.descriptionEncoder ?? null,
      model: requested?.model,
      tokenizer: requested?.tokenizer,
      source: join(checkpointDir, STATE_FILE),
    });
  } else {
    if (!filesRequested) return null;
    if (requested.model === undefined || requested.tokenizer === undefined) {
      throw new UsageError('An ONNX description encoder needs both files: pass --description-onnx FILE and --description-tokenizer FILE.');
    }
    const maxLength = requested.maxLength ?? options.model.maxDescriptionLength ?? 512;
    encoder = await OnnxDescriptionEncoder.load({ model: requested.model, tokenizer: requested.tokenizer, maxLength });
  }

  try {
    const { identity } = encoder;
    const hidden = await encoder.hiddenSize();
    log.info(() => `Description encoder: ${identity.model} (hidden size ${hidden}, SHA-256 ${identity.modelSha256})`);
    return {
      encoder,
      config: { kind: 'onnx', hidden, modelSha256: identity.modelSha256, tokenizerSha256: identity.tokenizerSha256, maxLength: encoder.maxLength },
      files: { model: identity.model, modelSha256: identity.modelSha256, tokenizer: identity.tokenizer, tokenizerSha256: identity.tokenizerSha256 },
    };
  } catch (error) {
    await encoder.dispose();
    throw error;
  }
}
