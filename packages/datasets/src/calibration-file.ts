/**
 * The calibration token file written by `sculpt calibrate` and read by
 * `sculpt prune --calibration-tokens FILE`:
 *
 *   {
 *     "seqlen": 2048,
 *     "samples": [[ids...], ...],               nsamples rows of seqlen ids
 *     "attention_mask": [[0|1...], ...],        only when some sample is padded
 *     "provenance": [{"dataset", "split", "records": [{"file", "index", "line"?}], "offset"}, ...],
 *     "tokenizer": {kind, path, sha256, vocabSize, bosId, eosId, padId},   path: file name only
 *     "config": {datasets, format, nsamples, seqlen, seed, split, padding, pad_id, mode, ...}
 *   }
 *
 * Only `seqlen` and `samples` are required when reading, so files made by
 * other tools (e.g. an instrumented Python reference) can be replayed.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { InputError, writeFileAtomic } from '@sculpt/core';
import type { TokenizerIdentity } from './tokenizers/types.js';
import type { CalibrationSet, SampleProvenance } from './types.js';

export interface CalibrationFile {
  seqlen: number;
  samples: Int32Array[];
  attentionMask?: Uint8Array[];
  provenance?: SampleProvenance[];
  tokenizer?: TokenizerIdentity;
  config?: Record<string, unknown>;
}

/** Renders the file; one sample per line keeps large files readable and diffable. */
export function serializeCalibrationFile(set: CalibrationSet, tokenizer: TokenizerIdentity, config: Record<string, unknown>): string {
  const rows = (list: ArrayLike<number>[]) => list.map((row) => `    ${JSON.stringify(Array.from(row))}`).join(',\n');
  const parts = [`  "seqlen": ${set.seqlen}`, `  "samples": [\n${rows(set.samples)}\n  ]`];
  if (set.attentionMask !== undefined) parts.push(`  "attention_mask": [\n${rows(set.attentionMask)}\n  ]`);
  parts.push(`  "provenance": ${JSON.stringify(set.provenance)}`);
  // The file name and SHA-256 identify the tokenizer; a full path would differ between machines.
  parts.push(`  "tokenizer": ${JSON.stringify({ ...tokenizer, path: basename(tokenizer.path) })}`);
  parts.push(`  "config": ${JSON.stringify(config)}`);
  return `{\n${parts.join(',\n')}\n}\n`;
}

export async function writeCalibrationFile(path: string, set: CalibrationSet, tokenizer: TokenizerIdentity, config: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path, serializeCalibrationFile(set, tokenizer, config));
}

export interface ReadCalibrationOptions {
  /** Reject ids at or above this bound (pass vocabSize + 1 when a faithful-mode [PAD] row is appended). */
  maxTokenId?: number;
}

/** Reads and validates a calibration token file. */
export async function readCalibrationFile(path: string, options: ReadCalibrationOptions = {}): Promise<CalibrationFile> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${code === 'ENOENT' ? 'calibration file not found' : (error as Error).message}; create one with "sculpt calibrate"`, file, { cause: error });
  }
  if (text.trim() === '') throw new InputError('the calibration file is empty', file);

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`invalid JSON: ${(error as Error).message}`, file, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('expected a JSON object with "seqlen" and "samples"', file);
  const body = json as Record<string, unknown>;

  const seqlen = body.seqlen;
  if (typeof seqlen !== 'number' || !Number.isInteger(seqlen) || seqlen <= 0) {
    throw new InputError(`"seqlen" must be a positive integer, got ${JSON.stringify(seqlen)}`, file);
  }
  const samples = readRows(body.samples, 'samples', seqlen, file, (value) => Number.isInteger(value) && value >= 0 && (options.maxTokenId === undefined || value < options.maxTokenId), options.maxTokenId === undefined ? 'a non-negative integer token id' : `a token id in [0, ${options.maxTokenId})`);
  if (samples.length === 0) throw new InputError('"samples" is empty; a calibration set needs at least one sample', file);

  const result: CalibrationFile = { seqlen, samples: samples.map((row) => Int32Array.from(row)) };
  if (body.attention_mask !== undefined) {
    const mask = readRows(body.attention_mask, 'attention_mask', seqlen, file, (value) => value === 0 || value === 1, '0 or 1');
    if (mask.length !== samples.length) throw new InputError(`"attention_mask" has ${mask.length} rows but "samples" has ${samples.length}`, file);
    result.attentionMask = mask.map((row) => Uint8Array.from(row));
  }
  if (Array.isArray(body.provenance)) result.provenance = body.provenance as SampleProvenance[];
  if (typeof body.tokenizer === 'object' && body.tokenizer !== null) result.tokenizer = body.tokenizer as TokenizerIdentity;
  if (typeof body.config === 'object' && body.config !== null) result.config = body.config as Record<string, unknown>;
  return result;
}

function readRows(value: unknown, name: string, seqlen: number, file: string, valid: (value: number) => boolean, expected: string): number[][] {
  if (!Array.isArray(value)) throw new InputError(`"${name}" must be a list of rows, got ${typeof value}`, file);
  return value.map((row: unknown, index) => {
    if (!Array.isArray(row)) throw new InputError(`"${name}"[${index}] must be a list of numbers`, file);
    if (row.length !== seqlen) throw new InputError(`"${name}"[${index}] has ${row.length} entries, but seqlen is ${seqlen}`, file);
    for (let position = 0; position < row.length; position++) {
      const entry = row[position] as number;
      if (typeof entry !== 'number' || !valid(entry)) {
        throw new InputError(`"${name}"[${index}][${position}] is ${JSON.stringify(entry)}; expected ${expected}`, file);
      }
    }
    return row as number[];
  });
}
