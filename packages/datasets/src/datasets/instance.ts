/**
 * `DatasetInstance`: a `CalibrationDataset` built from a `DatasetDefinition`.
 * It finds the files of a split (explicit files, then the data directory,
 * then the Hugging Face hub), normalizes records, renders formats and runs
 * the sample builders.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { InputError, Random, UsageError, getLogger, throwIfAborted } from '@sculpt/core';
import { readRecords } from '../io/read-records.js';
import { fetchHubFile, hubSettingsFromEnv, type HubSettings } from '../sources/hub.js';
import { findLocalFiles } from '../sources/local.js';
import { replaySamples } from '../sampling/replay.js';
import { concatSamples, fixedConcatSamples, paddedSamples, textPool, windowSamples, type BuiltSamples, type SamplerOptions } from '../sampling/samplers.js';
import type {
  CalibrationDataset,
  CalibrationFormat,
  CalibrationRequest,
  CalibrationSet,
  SampleProvenance,
  DatasetFamily,
  DatasetRecord,
  EvaluationItem,
  Split,
} from '../types.js';
import type { DatasetDefinition, Fields } from './definition.js';
import { loadExternalRationales } from './rationales.js';

const log = getLogger('datasets:instance');

export const DEFAULT_MAX_ATTEMPTS = 10_000;

/** Options every built-in dataset plugin accepts. */
export const sourceOptionsSchema = z.object({
  /** Root of the local data layout; default `SCULPT_DATA_DIR`. */
  dataDir: z.string().optional(),
  /** Explicit files for the requested split; they replace the data-directory search. */
  files: z.array(z.string()).optional(),
  /** Allow the Hugging Face hub fallback when no local file exists. */
  hub: z.boolean().default(true),
  /** Hub revision; default the definition's pinned revision. */
  revision: z.string().optional(),
  /** Hub settings; default from HF_ENDPOINT, HF_HUB_CACHE / HF_HOME and HF_HUB_OFFLINE. */
  hubEndpoint: z.string().optional(),
  hubCacheDir: z.string().optional(),
  offline: z.boolean().optional(),
  /** Folder with external rationale files (distilling-step-by-step layout); default the data directory. */
  rationaleDir: z.string().optional(),
});
export type SourceOptions = z.output<typeof sourceOptionsSchema>;

export class DatasetInstance implements CalibrationDataset {
  readonly name: string;
  readonly family: DatasetFamily;
  readonly formats: readonly CalibrationFormat[];
  readonly splits: { calibration: Split; evaluation: Split | null };
  private readonly loaded = new Map<Split, Promise<DatasetRecord[]>>();
  /** Names of downloaded files (`hf://datasets/<repo>@<revision>/<path>`) by their cache path. */
  private readonly hubNames = new Map<string, string>();
  private readonly dataDir: string | undefined;
  private readonly hub: HubSettings;

  constructor(
    private readonly definition: DatasetDefinition,
    private readonly options: SourceOptions,
  ) {
    this.name = definition.name;
    this.family = definition.family;
    this.formats = definition.formats;
    this.splits = definition.splits;
    const dataDir = options.dataDir ?? (process.env.SCULPT_DATA_DIR || undefined);
    this.dataDir = dataDir === undefined ? undefined : resolve(dataDir);
    const fromEnv = hubSettingsFromEnv();
    this.hub = {
      endpoint: options.hubEndpoint ?? fromEnv.endpoint,
      cacheDir: options.hubCacheDir ?? fromEnv.cacheDir,
      offline: options.offline ?? fromEnv.offline,
    };
  }

  async *records(split: Split = this.splits.calibration, signal?: AbortSignal): AsyncIterable<DatasetRecord> {
    for (const record of await this.load(split, signal)) yield record;
  }

  formatExample(record: DatasetRecord, format: CalibrationFormat): string {
    this.checkFormat(format);
    const fields = record.fields;
    if (format === 'window') return this.definition.text!(fields);

    const templates = this.definition.templates!;
    const prompt = templates.prompt(fields);
    if (format === 'zero') return prompt;
    if (format === 'single' || format === 'icl') return prompt + templates.answer(fields);

    const rationale = rationaleOf(this.definition, fields);
    if (rationale === undefined) {
      throw new InputError(`${this.name} record ${record.provenance.index} has no rationale, so it has no CoT form`, record.provenance.file);
    }
    return `${prompt}${rationale}${templates.cotSeparator ?? ' '}So the answer is ${templates.answer(fields)}.`;
  }

  async calibration(request: CalibrationRequest): Promise<CalibrationSet> {
    checkRequest(request);
    this.checkFormat(request.format);
    const split = request.split ?? this.splits.calibration;
    const mode = request.mode ?? 'clean';
    const padding = request.padding ?? 'left';
    // Faithful mode pads with a new [PAD] row appended after the vocabulary, as the reference does.
    const padId = request.padId ?? (mode === 'faithful' ? request.tokenizer.vocabSize : request.tokenizer.padId);

    let records = await this.load(split, request.signal);
    if (request.format === 'cot') {
      const withRationale = records.filter((record) => rationaleOf(this.definition, record.fields) !== undefined);
      log.info(`${this.name} ${split}: ${withRationale.length} of ${records.length} records have a rationale`);
      if (withRationale.length === 0) {
        throw new InputError(`no ${this.name} ${split} record has a rationale, so no CoT sample can be built; ${this.rationaleHint()}`);
      }
      records = withRationale;
      if (request.cotSteps !== undefined) records = this.withCotSteps(records, request.cotSteps);
    }

    const sampler: SamplerOptions = {
      nsamples: request.nsamples,
      seqlen: request.seqlen,
      random: new Random(request.seed),
      dataset: this.name,
      split,
      maxAttempts: request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      signal: request.signal,
      onSample: request.onSample,
    };
    const built = this.build(records, request, sampler, { padId, side: padding, mode });
    log.debug(() =>
      built.provenance.map((entry, i) => `${this.name} sample ${i}: records [${entry.records.map((record) => record.index).join(', ')}] offset ${entry.offset}`).join('\n'),
    );
    // --data_seqlen windows are always left-padded, as in the reference.
    return { seqlen: request.seqlen, ...built, padId, padding: request.dataSeqlen !== undefined ? 'left' : padding, format: request.format };
  }

  async replay(provenance: readonly SampleProvenance[], request: CalibrationRequest): Promise<CalibrationSet> {
    checkRequest(request);
    this.checkFormat(request.format);
    const mode = request.mode ?? 'clean';
    const padding = request.dataSeqlen !== undefined ? 'left' : (request.padding ?? 'left');
    const padId = request.padId ?? (mode === 'faithful' ? request.tokenizer.vocabSize : request.tokenizer.padId);

    const bySplit = new Map<Split, DatasetRecord[]>();
    for (const entry of provenance) {
      if (entry.dataset !== this.name) throw new InputError(`provenance names dataset "${entry.dataset}", but this is "${this.name}"`);
      if (!bySplit.has(entry.split)) bySplit.set(entry.split, await this.load(entry.split, request.signal));
    }

    const cache = new Map<string, Int32Array>();
    const tokensOf = (entry: SampleProvenance, index: number): Int32Array => {
      const key = `${entry.split}:${index}`;
      let tokens = cache.get(key);
      if (tokens !== undefined) return tokens;
      const records = bySplit.get(entry.split)!;
      if (!Number.isInteger(index) || index < 0 || index >= records.length) {
        throw new InputError(`provenance record index ${index} is outside ${this.name} ${entry.split} (${records.length} records)`);
      }
      const text =
        request.format === 'window' && this.definition.joinDocuments !== undefined
          ? records.map((record) => this.definition.text!(record.fields)).join(this.definition.joinDocuments)
          : this.formatExample(records[index], request.format);
      tokens = Int32Array.from(request.tokenizer.encode(text, { bos: true }));
      cache.set(key, tokens);
      return tokens;
    };

    const rebuilt = replaySamples(provenance, { seqlen: request.seqlen, format: request.format, padId, padding, mode, dataSeqlen: request.dataSeqlen, numInContext: request.numInContext }, tokensOf);
    return { seqlen: request.seqlen, ...rebuilt, provenance: [...provenance], padId, padding, format: request.format };
  }

  async *evaluationItems(split?: Split, signal?: AbortSignal): AsyncIterable<EvaluationItem> {
    const templates = this.definition.templates;
    const chosen = split ?? this.splits.evaluation;
    if (templates === undefined || chosen === null) {
      throw new InputError(`${this.name} is a pre-training corpus and has no evaluation items; use it for calibration or perplexity only`);
    }
    for (const record of await this.load(chosen, signal)) {
      const fields = record.fields;
      yield {
        id: templates.id(fields, record.provenance.index),
        prompt: templates.prompt(fields),
        answer: templates.answer(fields),
        choices: templates.choices?.(fields),
        rationale: rationaleOf(this.definition, fields),
        provenance: record.provenance,
      };
    }
  }

  private build(records: DatasetRecord[], request: CalibrationRequest, sampler: SamplerOptions, padding: { padId: number; side: 'left' | 'right'; mode: 'faithful' | 'clean' }): BuiltSamples {
    const tokenizer = request.tokenizer;
    const description = `${this.name} ${sampler.split} (${describeFiles(records)})`;
    const encode = (text: string) => tokenizer.encode(text, { bos: true });

    if (request.format === 'window') {
      // The reference's C4 --data_seqlen pads are never attention-masked in faithful mode (its pad token is None there).
      const short = request.dataSeqlen === undefined ? undefined : { ...padding, length: request.dataSeqlen, attendPads: true };
      if (this.definition.joinDocuments !== undefined) {
        // WikiText-2: the reference windows one string made of every row joined with " ".
        const joined = records.map((record) => this.definition.text!(record.fields)).join(this.definition.joinDocuments);
        return windowSamples(textPool([joined], [records[0].provenance], encode, description), sampler, short);
      }
      const texts = records.map((record) => this.definition.text!(record.fields));
      return windowSamples(textPool(texts, records.map((record) => record.provenance), encode, description), sampler, short);
    }

    const texts = records.map((record) => this.formatExample(record, request.format));
    const pool = textPool(texts, records.map((record) => record.provenance), encode, description);
    if (request.numInContext !== undefined) return fixedConcatSamples(pool, sampler, request.numInContext, padding);
    if (request.format === 'icl' || request.format === 'cot') return concatSamples(pool, sampler);
    return paddedSamples(pool, sampler, padding);
  }

  /** Keeps CoT examples whose "{rationale} So the answer is {answer}." part has exactly `steps` occurrences of ". ". */
  private withCotSteps(records: DatasetRecord[], steps: number): DatasetRecord[] {
    const templates = this.definition.templates!;
    const kept = records.filter((record) => {
      const rationale = rationaleOf(this.definition, record.fields)!;
      const tail = `${rationale}${templates.cotSeparator ?? ' '}So the answer is ${templates.answer(record.fields)}.`;
      return tail.split('. ').length - 1 === steps;
    });
    if (kept.length === 0) throw new InputError(`no ${this.name} example has exactly ${steps} reasoning steps (". " separators); choose another cotSteps`);
    log.info(`${this.name}: ${kept.length} of ${records.length} CoT examples have ${steps} steps`);
    return kept;
  }

  private checkFormat(format: CalibrationFormat): void {
    if (this.formats.includes(format)) return;
    const cotNote = format === 'cot' && this.family === 'downstream' ? ' (this dataset has no rationales, so it has no CoT form)' : '';
    throw new UsageError(`dataset "${this.name}" does not support format "${format}"${cotNote}; supported formats: ${this.formats.join(', ')}`);
  }

  /**
   * Returns the name a record's file gets in provenance: `hf://` for hub files
   * and the path relative to the data directory for files under it, so the
   * same data gives the same calibration file on every machine. Other files
   * keep their absolute path.
   */
  private sourceName(file: string): string {
    const hubName = this.hubNames.get(file);
    if (hubName !== undefined) return hubName;
    if (this.dataDir !== undefined) {
      const inside = relative(this.dataDir, file);
      if (inside !== '' && !inside.startsWith('..') && !isAbsolute(inside)) return inside.split(sep).join('/');
    }
    return file;
  }

  private rationaleHint(): string {
    const external = this.definition.externalRationales;
    return external === undefined
      ? 'the records carry no rationale field'
      : `put the distilling-step-by-step rationale files under <data dir>/${external.folder}/ or pass rationaleDir`;
  }

  private load(split: Split, signal: AbortSignal | undefined): Promise<DatasetRecord[]> {
    let pending = this.loaded.get(split);
    if (pending === undefined) {
      pending = this.readSplit(split, signal);
      this.loaded.set(split, pending);
      pending.catch(() => this.loaded.delete(split));
    }
    return pending;
  }

  private async readSplit(split: Split, signal: AbortSignal | undefined): Promise<DatasetRecord[]> {
    const files = await this.filesOf(split, signal);
    const records: DatasetRecord[] = [];
    const limit = this.definition.maxRecords ?? Infinity;
    reading: for (const file of files) {
      const read = typeof this.definition.read === 'function' ? this.definition.read(file) : this.definition.read;
      for await (const raw of readRecords(file, { ...read, signal })) {
        const location = { file, index: raw.index, line: raw.line };
        for (const fields of this.definition.normalize(raw.value, location)) {
          if (records.length >= limit) break reading;
          records.push({ fields, provenance: { file: this.sourceName(file), index: records.length, ...(raw.line !== undefined ? { line: raw.line } : {}) } });
        }
      }
      throwIfAborted(signal);
    }
    if (records.length === 0) throw new InputError(`${this.name} ${split}: the files contain no records (${files.join(', ')})`);

    if (this.definition.externalRationales !== undefined) {
      await this.attachRationales(records);
    }
    log.info(`${this.name} ${split}: ${records.length} records from ${files.length} file(s)`);
    return records;
  }

  private async attachRationales(records: DatasetRecord[]): Promise<void> {
    const external = this.definition.externalRationales!;
    const root = this.options.rationaleDir ?? this.dataDir;
    if (root === undefined) return;
    const byKey = await loadExternalRationales(resolve(root, external.folder), external.keyOfRationaleRecord);
    if (byKey.size === 0) return;
    let joined = 0;
    for (const record of records) {
      const key = external.keyOf(record.fields);
      const rationale = key === undefined ? undefined : byKey.get(key);
      if (rationale !== undefined) {
        (record.fields as Fields).external_rationale = rationale;
        joined++;
      }
    }
    log.info(`${this.name}: joined ${joined} of ${records.length} records to external rationales`);
  }

  private async filesOf(split: Split, signal: AbortSignal | undefined): Promise<string[]> {
    if (this.options.files !== undefined && this.options.files.length > 0) return this.options.files.map((file) => resolve(file));

    let searched: string[] = [];
    let available: Split[] = [];
    if (this.dataDir !== undefined) {
      const local = await findLocalFiles(this.dataDir, this.definition.layout, split);
      if (local.files.length > 0) return local.files;
      searched = local.searched;
      available = local.available;
    }

    const hub = this.definition.hub;
    const hubFiles = hub?.files[split];
    if (hub !== undefined && hubFiles !== undefined && this.options.hub) {
      const revision = this.options.revision ?? hub.revision;
      const paths: string[] = [];
      for (const path of hubFiles) {
        const local = await fetchHubFile({ repo: hub.repo, revision, path }, this.hub, signal);
        this.hubNames.set(local, `hf://datasets/${hub.repo}@${revision}/${path}`);
        paths.push(local);
      }
      return paths;
    }

    const where = searched.length > 0 ? `searched ${searched.join(', ')}` : 'no data directory given (--data-dir or SCULPT_DATA_DIR)';
    const present = available.length > 0 ? `; local splits present: ${available.join(', ')} (choose one with --split)` : '';
    let hubNote = '';
    if (hub !== undefined && hubFiles === undefined) hubNote = `; the hub source ${hub.repo} has no "${split}" split`;
    else if (hub !== undefined) hubNote = '; downloading from the hub is turned off for this run';
    throw new InputError(`no ${this.name} files for split "${split}": ${where}${present}${hubNote}; put the file under the data directory or point --data-dir at one that has it`);
  }
}

function rationaleOf(definition: DatasetDefinition, fields: Fields): string | undefined {
  const own = definition.templates?.rationale?.(fields);
  if (own !== undefined && own.trim() !== '') return own;
  const external = fields.external_rationale;
  return typeof external === 'string' && external.trim() !== '' ? external : undefined;
}

function describeFiles(records: DatasetRecord[]): string {
  const files = [...new Set(records.map((record) => record.provenance.file))];
  return files.length <= 2 ? files.join(', ') : `${files[0]} and ${files.length - 1} more files`;
}

function checkRequest(request: CalibrationRequest): void {
  const positive = (name: string, value: number) => {
    if (!Number.isInteger(value) || value <= 0) throw new UsageError(`${name} must be a positive integer, got ${value}`);
  };
  positive('nsamples', request.nsamples);
  positive('seqlen', request.seqlen);
  if (!Number.isInteger(request.seed)) throw new UsageError(`seed must be an integer, got ${request.seed}`);
  if (request.maxAttempts !== undefined) positive('maxAttempts', request.maxAttempts);
  if (request.dataSeqlen !== undefined) {
    positive('dataSeqlen', request.dataSeqlen);
    if (request.format !== 'window') throw new UsageError(`dataSeqlen applies to pre-training windows only, not to format "${request.format}"`);
    if (request.dataSeqlen > request.seqlen) throw new UsageError(`dataSeqlen ${request.dataSeqlen} is larger than seqlen ${request.seqlen}`);
  }
  if (request.numInContext !== undefined) {
    positive('numInContext', request.numInContext);
    if (request.format !== 'icl' && request.format !== 'cot') throw new UsageError(`numInContext applies to the icl and cot formats, not to "${request.format}"`);
  }
  if (request.cotSteps !== undefined) {
    positive('cotSteps', request.cotSteps);
    if (request.format !== 'cot') throw new UsageError(`cotSteps applies to the cot format only, not to "${request.format}"`);
  }
}
