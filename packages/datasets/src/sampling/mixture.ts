/**
 * Calibration sets drawn from several datasets: each of the k datasets
 * contributes `floor(nsamples / k)` samples, concatenated in the order given,
 * and each starts from the run seed, as the reference's loaders re-seed.
 * When nsamples is not a multiple of k the set is smaller than nsamples, as
 * in the reference, and a warning is logged.
 *
 * Pre-training corpora and control sets support only random windows; like
 * the reference's loaders they use them whatever format is requested. A
 * downstream dataset without the requested format is an error.
 */
import { UsageError, getLogger } from '@sculpt/core';
import type { CalibrationDataset, CalibrationFormat, CalibrationRequest, CalibrationSet, SampleProvenance, Split } from '../types.js';

const log = getLogger('datasets:mixture');

export interface MixtureResult extends CalibrationSet {
  /** Per dataset: its name, the split and format used, how many samples it gave and the files they came from. */
  parts: { dataset: string; split: Split; format: CalibrationFormat; nsamples: number; sources: string[] }[];
}

/** Returns whether a `dataset` plugin instance builds calibration sets (code datasets do not). */
export function isCalibrationDataset(value: unknown): value is CalibrationDataset {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<CalibrationDataset>;
  return typeof candidate.calibration === 'function' && Array.isArray(candidate.formats) && typeof candidate.name === 'string';
}

/** Returns the format a dataset samples in when `requested` is the requested format. */
export function effectiveFormat(dataset: CalibrationDataset, requested: CalibrationFormat): CalibrationFormat {
  if (dataset.formats.includes(requested)) return requested;
  const windowOnly = dataset.formats.length === 1 && dataset.formats[0] === 'window';
  if (windowOnly && dataset.family !== 'custom') return 'window';
  throw new UsageError(`dataset "${dataset.name}" does not support format "${requested}"; supported formats: ${dataset.formats.join(', ')}`);
}

/**
 * Builds one calibration set from several datasets. `splits[i]`, when given,
 * overrides the split of dataset i; otherwise `request.split` or the
 * dataset's calibration split is used.
 */
export async function buildMixture(
  datasets: readonly CalibrationDataset[],
  request: CalibrationRequest,
  splits: readonly (Split | undefined)[] = [],
): Promise<MixtureResult> {
  if (datasets.length === 0) throw new UsageError('no dataset given; pass at least one name to --dataset');
  const each = Math.floor(request.nsamples / datasets.length);
  if (each === 0) {
    throw new UsageError(`nsamples=${request.nsamples} is smaller than the number of datasets (${datasets.length}); each dataset needs at least one sample`);
  }
  if (each * datasets.length !== request.nsamples) {
    log.warn(`nsamples=${request.nsamples} is not a multiple of ${datasets.length} datasets; the set has ${each * datasets.length} samples (${each} per dataset)`);
  }

  const sets: CalibrationSet[] = [];
  const parts: MixtureResult['parts'] = [];
  const formats = datasets.map((dataset) => effectiveFormat(dataset, request.format));
  for (const [position, dataset] of datasets.entries()) {
    const split = splits[position] ?? request.split ?? dataset.splits.calibration;
    const format = formats[position];
    if (format !== request.format) log.info(`${dataset.name} is sampled with random windows (format "${request.format}" applies to downstream datasets)`);
    const set = await dataset.calibration({ ...request, format, nsamples: each, split });
    sets.push(set);
    const sources = [...new Set(set.provenance.flatMap((entry) => entry.records.map((record) => record.file)))].sort();
    parts.push({ dataset: dataset.name, split, format, nsamples: set.samples.length, sources });
  }

  const padded = sets.some((set) => set.attentionMask !== undefined);
  const attentionMask = padded
    ? sets.flatMap((set) => set.attentionMask ?? set.samples.map((sample) => new Uint8Array(sample.length).fill(1)))
    : undefined;
  return {
    seqlen: request.seqlen,
    samples: sets.flatMap((set) => set.samples),
    ...(attentionMask !== undefined ? { attentionMask } : {}),
    provenance: sets.flatMap((set) => set.provenance),
    padId: sets[0].padId,
    padding: sets[0].padding,
    format: request.format,
    parts,
  };
}

/**
 * Rebuilds a (possibly mixed) calibration set from its provenance. Entries are
 * replayed by the dataset they name, in their recorded order.
 */
export async function replayMixture(datasets: readonly CalibrationDataset[], provenance: readonly SampleProvenance[], request: CalibrationRequest): Promise<CalibrationSet> {
  const byName = new Map(datasets.map((dataset) => [dataset.name, dataset]));
  const sets: CalibrationSet[] = [];
  let start = 0;
  while (start < provenance.length) {
    // A run of consecutive entries from the same dataset is replayed in one call.
    let end = start + 1;
    while (end < provenance.length && provenance[end].dataset === provenance[start].dataset) end++;

    const name = provenance[start].dataset;
    const dataset = byName.get(name);
    if (dataset === undefined) throw new UsageError(`the provenance names dataset "${name}", which was not given; pass it with --dataset`);
    if (dataset.replay === undefined) throw new UsageError(`dataset "${name}" cannot be replayed from provenance; rebuild it with the same seed instead`);
    sets.push(await dataset.replay(provenance.slice(start, end), { ...request, format: effectiveFormat(dataset, request.format) }));
    start = end;
  }
  if (sets.length === 0) throw new UsageError('the provenance list is empty; nothing to replay');

  const padded = sets.some((set) => set.attentionMask !== undefined);
  const attentionMask = padded
    ? sets.flatMap((set) => set.attentionMask ?? set.samples.map((sample) => new Uint8Array(sample.length).fill(1)))
    : undefined;
  return {
    seqlen: request.seqlen,
    samples: sets.flatMap((set) => set.samples),
    ...(attentionMask !== undefined ? { attentionMask } : {}),
    provenance: [...provenance],
    padId: sets[0].padId,
    padding: sets[0].padding,
    format: request.format,
  };
}
