/**
 * Builds the calibration sequences of a run from registered datasets, or
 * reads them from a calibration token file. With several datasets each
 * contributes ⌊nsamples / k⌋ sequences, concatenated in the order given, as
 * the reference's `--calibration a b c` does.
 */
import { UsageError, type Registry } from '@sculpt/core';
import { buildMixture, readCalibrationFile, unknownDatasetError, type CalibrationDataset, type CalibrationFormat, type CalibrationSet, type Split, type Tokenizer } from '@sculpt/datasets';
import type { CalibrationSequence } from '../pipeline/model.js';
import type { PruneMode } from '../pipeline/prune-model.js';

export interface CalibrationOptions {
  registry: Registry;
  datasets: string[];
  /** Sample format; default `icl` when every dataset has it, otherwise `window`. */
  format?: CalibrationFormat;
  dataDir?: string;
  /** Split to sample from; default each dataset's training split. */
  split?: Split;
  tokenizer: Tokenizer;
  nsamples: number;
  seqlen: number;
  seed: number;
  mode: PruneMode;
  signal?: AbortSignal;
}

export interface BuiltCalibration {
  set: CalibrationSet;
  sequences: CalibrationSequence[];
  format: CalibrationFormat;
  parts: { dataset: string; nsamples: number }[];
}

/** The synthetic controls read no files; file-backed sets stay offline (no hub download) and read `dataDir`. */
function datasetOptions(name: string, dataDir: string | undefined): Record<string, unknown> {
  if (name === 'ellipses' || name === 'random') return {};
  return dataDir === undefined ? { hub: false } : { hub: false, dataDir };
}

function toSequences(samples: Int32Array[], masks: Uint8Array[] | undefined): CalibrationSequence[] {
  return samples.map((tokens, i) => ({ tokens, mask: masks?.[i] }));
}

function chooseFormat(datasets: CalibrationDataset[], requested: CalibrationFormat | undefined): CalibrationFormat {
  if (requested !== undefined) {
    for (const dataset of datasets) {
      if (!dataset.formats.includes(requested)) {
        throw new UsageError(`calibration dataset ${dataset.name} has no ${requested} format; it supports ${dataset.formats.join(', ')}`);
      }
    }
    return requested;
  }
  for (const candidate of ['icl', 'window'] as const) {
    if (datasets.every((dataset) => dataset.formats.includes(candidate))) return candidate;
  }
  throw new UsageError(`the datasets ${datasets.map((dataset) => dataset.name).join(', ')} share no default format; pass --format`);
}

export async function buildCalibration(options: CalibrationOptions): Promise<BuiltCalibration> {
  if (options.datasets.length === 0) throw new UsageError('no calibration dataset given; pass --calibration NAME[,NAME…]');
  if (!(Number.isInteger(options.nsamples) && options.nsamples > 0)) throw new UsageError(`--nsamples must be a positive integer, got ${options.nsamples}`);
  if (!(Number.isInteger(options.seqlen) && options.seqlen > 1)) throw new UsageError(`--seqlen must be an integer above 1, got ${options.seqlen}`);

  const datasets: CalibrationDataset[] = [];
  for (const name of options.datasets) {
    if (!(await options.registry.has('dataset', name))) throw unknownDatasetError(name, 'calibration', await options.registry.names('dataset'));
    const created: unknown = await options.registry.create('dataset', name, datasetOptions(name, options.dataDir), { signal: options.signal });
    datasets.push(created as CalibrationDataset);
  }
  const format = chooseFormat(datasets, options.format);
  const set = await buildMixture(datasets, {
    tokenizer: options.tokenizer,
    format,
    nsamples: options.nsamples,
    seqlen: options.seqlen,
    seed: options.seed,
    mode: options.mode,
    split: options.split,
    signal: options.signal,
  });
  return { set, sequences: toSequences(set.samples, set.attentionMask), format, parts: set.parts.map(({ dataset, nsamples }) => ({ dataset, nsamples })) };
}

/** Reads a calibration token file (`sculpt calibrate` output or a replayed reference run). */
export async function readCalibrationSequences(file: string, vocabSize: number): Promise<{ sequences: CalibrationSequence[]; seqlen: number }> {
  // vocabSize + 1 admits faithful mode's appended [PAD] id.
  const content = await readCalibrationFile(file, { maxTokenId: vocabSize + 1 });
  return { sequences: toSequences(content.samples, content.attentionMask), seqlen: content.seqlen };
}
