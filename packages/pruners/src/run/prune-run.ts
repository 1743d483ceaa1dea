/**
 * One pruning run end to end: load the model and its tokenizer, build or read
 * the calibration sequences, prune block by block, save the model in its
 * input format and write a JSON report (and the calibration windows) beside it.
 */
import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { getLogger, UsageError, writeFileAtomic, type Logger, type ProgressReporter, type Registry } from '@sculpt/core';
import { loadTokenizerForModel, tokenizerPathForModel, writeCalibrationFile, type CalibrationFormat, type Split, type Tokenizer } from '@sculpt/datasets';
import { checkOverwrite, getDevice, loadModel, type CausalLM, type DeviceRequest } from '@sculpt/runtime-gpu';
import type { HessianPrecision } from '../algorithms/collectors.js';
import { createDeviceGemm } from '../algorithms/device-gemm.js';
import { parseNMPattern } from '../algorithms/selectors.js';
import type { CalibrationSequence } from '../pipeline/model.js';
import { pruneModel, type PruneMode, type PruneReport } from '../pipeline/prune-model.js';
import { buildCalibration, readCalibrationSequences } from './calibration.js';

export interface PruneRunOptions {
  registry: Registry;
  modelPath: string;
  method: string;
  methodOptions?: Record<string, unknown>;
  sparsity: number;
  /** "2:4" or "4:8". */
  pattern?: string;
  calibration?: string[];
  format?: CalibrationFormat;
  /** Calibration split; default each dataset's training split. */
  split?: Split;
  dataDir?: string;
  calibrationTokens?: string;
  nsamples: number;
  seqlen: number;
  seed: number;
  out: string;
  mode?: PruneMode;
  propagateError?: boolean;
  trueSequential?: boolean;
  /**
   * Device for the block forward passes, the calibration statistics,
   * SparseGPT's inverse-Hessian factor and large products (`auto` as
   * `getDevice` resolves it). When absent, the blocks run on the host path and
   * the statistics and the factor on the host.
   */
  device?: DeviceRequest;
  /** Storage of host Hessians: float32 (default, as the reference) or float64, the precision of the spec's test vectors. */
  hessianPrecision?: HessianPrecision;
  /** Overwrite an existing output. */
  force?: boolean;
  logger?: Logger;
  progress?: ProgressReporter;
  signal?: AbortSignal;
}

export interface PruneRunResult extends PruneReport {
  model: string;
  method: string;
  methodOptions: Record<string, unknown>;
  targetSparsity: number;
  pattern: string | null;
  /** Storage of the host Hessians; null when the method uses no Hessian or the statistics ran on a device (always float32 there). */
  hessianPrecision: HessianPrecision | null;
  /** Device kind the block passes and statistics ran on, or "host" for the host path. */
  device: string;
  calibration: { source: string; datasets: string[]; format: string | null; nsamples: number; seqlen: number; seed: number };
  output: string;
  reportPath: string;
  calibrationPath: string | null;
  /** Peak resident set size of this process so far, in bytes. */
  peakMemoryBytes: number;
}

/** Returns the mean of the embedding rows, the deterministic init of faithful mode's appended [PAD] row. */
export function meanEmbeddingRow(embedding: Float32Array, dim: number): Float32Array {
  const rows = embedding.length / dim;
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) mean[i] += embedding[r * dim + i];
  return Float32Array.from(mean, (value) => value / rows);
}

/**
 * Wraps `embed` so the appended [PAD] id (= vocabulary size) embeds as the
 * mean row. The saved model keeps its original vocabulary: the pad row only
 * exists during calibration.
 */
function withPadRow(model: CausalLM): CausalLM {
  const { vocabSize, dim } = model.config;
  const padVector = meanEmbeddingRow(model.top.embedding, dim);
  const embed = model.embed.bind(model);
  const wrapped = Object.create(model) as CausalLM;
  wrapped.embed = (tokens, positions) => {
    const ids = Array.from(tokens, (id) => (id === vocabSize ? 0 : id));
    const out = embed(ids, positions);
    for (let t = 0; t < tokens.length; t++) if (tokens[t] === vocabSize) out.set(padVector, t * dim);
    return out;
  };
  return wrapped;
}

/**
 * Copies a single-file model's tokenizer next to the pruned output, so that
 * `sculpt eval --model OUT` finds it as it found the original's. Folder
 * formats carry their tokenizer files themselves.
 */
async function copyTokenizerBeside(modelPath: string, out: string, log: Logger): Promise<void> {
  if ((await stat(out)).isDirectory()) return;
  const source = await tokenizerPathForModel(modelPath);
  const target = path.join(path.dirname(path.resolve(out)), path.basename(source));
  if (path.resolve(source) === target) return;
  const exists = await stat(target).then(() => true, () => false);
  if (exists) return;
  await copyFile(source, target);
  log.debug(() => `copied tokenizer ${source} to ${target}`);
}

export function peakMemoryBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

async function calibrationSequences(
  options: PruneRunOptions,
  tokenizer: Tokenizer,
  vocabSize: number,
  log: Logger,
): Promise<{ sequences: CalibrationSequence[]; calibrationPath: string | null; format: CalibrationFormat | null; datasets: string[] }> {
  if (options.calibrationTokens !== undefined) {
    if (options.calibration !== undefined) throw new UsageError('pass either --calibration or --calibration-tokens, not both');
    const { sequences, seqlen } = await readCalibrationSequences(options.calibrationTokens, vocabSize);
    if (seqlen !== options.seqlen) log.warn(`calibration file has seqlen ${seqlen}; --seqlen ${options.seqlen} is ignored`);
    return { sequences: sequences.slice(0, options.nsamples), calibrationPath: path.resolve(options.calibrationTokens), format: null, datasets: [] };
  }
  if (options.calibration === undefined) return { sequences: [], calibrationPath: null, format: null, datasets: [] };

  const built = await buildCalibration({
    registry: options.registry,
    datasets: options.calibration,
    format: options.format,
    split: options.split,
    dataDir: options.dataDir,
    tokenizer,
    nsamples: options.nsamples,
    seqlen: options.seqlen,
    seed: options.seed,
    mode: options.mode ?? 'faithful',
    signal: options.signal,
  });
  const calibrationPath = `${options.out}.calibration.json`;
  await writeCalibrationFile(calibrationPath, built.set, tokenizer.identity, {
    datasets: options.calibration,
    format: built.format,
    split: options.split ?? null,
    nsamples: options.nsamples,
    seqlen: options.seqlen,
    seed: options.seed,
    mode: options.mode ?? 'faithful',
  });
  return { sequences: built.sequences, calibrationPath, format: built.format, datasets: options.calibration };
}

export async function runPrune(options: PruneRunOptions): Promise<PruneRunResult> {
  const log = options.logger ?? getLogger('pruners:prune');
  const mode = options.mode ?? 'faithful';
  const pattern = options.pattern === undefined ? undefined : parseNMPattern(options.pattern);
  const methodOptions = options.methodOptions ?? {};
  const pruner = await options.registry.create('pruner', options.method, methodOptions, { logger: log, signal: options.signal });
  if (pruner.statistics.length > 0 && options.calibration === undefined && options.calibrationTokens === undefined) {
    throw new UsageError(`method ${options.method} needs calibration data; pass --calibration NAME[,NAME…] or --calibration-tokens FILE`);
  }

  const model = await loadModel(options.modelPath);
  try {
    const tokenizer = await loadTokenizerForModel(options.modelPath);
    if (options.calibration !== undefined && options.seqlen > model.config.maxSeqLen) {
      throw new UsageError(
        `--seqlen ${options.seqlen} is larger than the context length ${model.config.maxSeqLen} of ${options.modelPath}; pass --seqlen ${model.config.maxSeqLen} or less`,
      );
    }
    // Refuse an existing output before any work, so a refused run neither wastes
    // the pruning nor replaces the calibration file beside the existing model.
    await checkOverwrite(model, options.out, { force: options.force });
    const calibration = await calibrationSequences(options, tokenizer, model.config.vocabSize, log);
    log.info(`pruning ${options.modelPath} with ${options.method} at ${options.pattern ?? options.sparsity} on ${calibration.sequences.length} sequences`);

    const device = options.device === undefined ? undefined : await getDevice(options.device);
    if (device !== undefined) {
      model.useDevice(device);
      log.info(`block forward passes, statistics and factorizations on the ${device.kind} device`);
    }
    const task = options.progress?.start({ label: `prune ${options.method}`, total: model.config.nLayers, unit: 'blocks' });
    const report = await pruneModel(withPadRow(model), {
      pruner,
      sparsity: pattern === undefined ? options.sparsity : 0.5,
      pattern,
      sequences: calibration.sequences,
      mode,
      gemm: createDeviceGemm(device),
      device,
      propagateError: options.propagateError,
      trueSequential: options.trueSequential,
      hessianPrecision: options.hessianPrecision,
      logger: log,
      signal: options.signal,
      onBlockDone: (block) => task?.update(block + 1),
    });
    task?.finish();

    await model.save(options.out, { force: options.force });
    await copyTokenizerBeside(options.modelPath, options.out, log);
    const reportPath = `${options.out}.report.json`;
    let source = 'none';
    if (options.calibrationTokens !== undefined) source = 'file';
    else if (calibration.datasets.length > 0) source = 'datasets';
    const result: PruneRunResult = {
      model: path.resolve(options.modelPath),
      method: options.method,
      methodOptions,
      targetSparsity: pattern === undefined ? options.sparsity : 0.5,
      pattern: options.pattern ?? null,
      hessianPrecision: device === undefined && pruner.statistics.includes('hessian') ? (options.hessianPrecision ?? 'float32') : null,
      device: device?.kind ?? 'host',
      calibration: {
        source,
        datasets: calibration.datasets,
        format: calibration.format,
        nsamples: calibration.sequences.length,
        seqlen: calibration.sequences[0]?.tokens.length ?? options.seqlen,
        seed: options.seed,
      },
      ...report,
      output: path.resolve(options.out),
      reportPath: path.resolve(reportPath),
      calibrationPath: calibration.calibrationPath,
      peakMemoryBytes: peakMemoryBytes(),
    };
    await writeFileAtomic(reportPath, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await model.close();
  }
}
