/**
 * Streams raw records from local files in the layouts public datasets ship
 * in: JSON lines, JSON arrays (or `{"data": [...]}` wrappers), single JSON
 * objects, CSV, Parquet and plain text, each optionally gzip-compressed.
 *
 * JSON lines are streamed with readline, so CRLF endings, blank lines and a
 * leading byte order mark are accepted, and errors carry 1-based line numbers.
 * Compression: `.gz` (zlib) and `.zst` (fzstd, as The Pile's shards ship).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { gunzipSync, createGunzip } from 'node:zlib';
import { Transform, type Readable } from 'node:stream';
import { Decompress, decompress as zstdDecompress } from 'fzstd';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { InputError, throwIfAborted } from '@sculpt/core';
import { parseCsv } from './csv.js';

export type FileFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet' | 'txt';

/** Rule that cuts a text file into documents. */
export type TextSplit =
  | { kind: 'lines' }
  | { kind: 'paragraphs' }
  | { kind: 'separator'; separator: string }
  | { kind: 'whole' };

export interface RawRecord {
  value: unknown;
  /** 0-based index within the file. */
  index: number;
  /** 1-based line number, for line-oriented formats. */
  line?: number;
}

export interface ReadOptions {
  /** Overrides the format implied by the extension. */
  format?: FileFormat;
  /** For text files; default one document per paragraph (blank-line separated). */
  textSplit?: TextSplit;
  /** For text files split by lines: keep the trailing newline of each line (Hugging Face's text loader does). */
  keepLineEnds?: boolean;
  signal?: AbortSignal;
}

const EXTENSIONS: Record<string, FileFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.parquet': 'parquet',
  '.txt': 'txt',
  '.raw': 'txt',
  '.tokens': 'txt',
};

export type Compression = 'gzip' | 'zstd' | undefined;

/** Returns the compression of a path and the format its inner extension implies. */
export function detectFormat(path: string): { compression: Compression; format: FileFormat | undefined } {
  const lower = path.toLowerCase();
  let compression: Compression;
  let base = lower;
  if (lower.endsWith('.gz')) {
    compression = 'gzip';
    base = lower.slice(0, -3);
  } else if (lower.endsWith('.zst')) {
    compression = 'zstd';
    base = lower.slice(0, -4);
  }
  const dot = base.lastIndexOf('.');
  return { compression, format: dot >= 0 ? EXTENSIONS[base.slice(dot)] : undefined };
}

/** Creates a stream transform that decompresses Zstandard data with fzstd. */
function createZstdDecompressor(): Transform {
  let decoder: Decompress;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  decoder = new Decompress((data) => transform.push(Buffer.from(data)));
  return transform;
}

/** Streams the raw records of one file. Throws InputError for a missing, empty or malformed file. */
export async function* readRecords(path: string, options: ReadOptions = {}): AsyncGenerator<RawRecord> {
  const { compression, format: implied } = detectFormat(path);
  const format = options.format ?? implied;
  if (format === undefined) {
    throw new InputError(`unknown file type; expected .jsonl, .json, .csv, .tsv, .parquet or .txt (optionally .gz or .zst)`, path);
  }
  await checkNonEmpty(path);

  let count = 0;
  const source =
    format === 'jsonl'
      ? readJsonLines(path, compression, options.signal)
      : format === 'parquet'
        ? readParquet(path, compression)
        : readWholeFile(path, compression, format, options);
  for await (const record of source) {
    count++;
    yield record;
  }
  if (count === 0) throw new InputError('the file contains no records', path);
}

async function checkNonEmpty(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file not found' : (error as Error).message, path, { cause: error });
  }
  if (size === 0) throw new InputError('the file is empty', path);
}

async function* readJsonLines(path: string, compression: Compression, signal: AbortSignal | undefined): AsyncGenerator<RawRecord> {
  const file = createReadStream(path);
  let stream: Readable = file;
  if (compression === 'gzip') stream = file.pipe(createGunzip());
  if (compression === 'zstd') stream = file.pipe(createZstdDecompressor());
  // A decompression error surfaces on the piped stream, where readline reads it.
  file.on('error', (error) => stream.destroy(error));
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  let index = 0;
  try {
    for await (let line of lines) {
      lineNumber++;
      if (lineNumber === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      if (line.trim() === '') continue;
      if (index % 1024 === 0) throwIfAborted(signal);

      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new InputError(`line ${lineNumber}: invalid JSON (${(error as Error).message}); each line must be one JSON value`, path, { cause: error });
      }
      yield { value, index: index++, line: lineNumber };
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read the file: ${(error as Error).message}`, path, { cause: error });
  } finally {
    lines.close();
    stream.destroy();
    file.destroy();
  }
}

async function readBytes(path: string, compression: Compression): Promise<Buffer> {
  const bytes = await readFile(path);
  if (compression === undefined) return bytes;
  try {
    return compression === 'gzip' ? gunzipSync(bytes) : Buffer.from(zstdDecompress(bytes));
  } catch (error) {
    throw new InputError(`invalid ${compression} data: ${(error as Error).message}`, path, { cause: error });
  }
}

async function* readParquet(path: string, compression: Compression): AsyncGenerator<RawRecord> {
  const bytes = await readBytes(path, compression);
  const buffer = new Uint8Array(bytes).buffer;
  let rows: Record<string, unknown>[];
  try {
    // NOTE: a whole file is decoded at once; Hugging Face shards are a few hundred MB at most.
    rows = await parquetReadObjects({ file: buffer, compressors });
  } catch (error) {
    throw new InputError(`invalid Parquet file: ${(error as Error).message}`, path, { cause: error });
  }
  for (let index = 0; index < rows.length; index++) yield { value: rows[index], index };
}

async function* readWholeFile(path: string, compression: Compression, format: FileFormat, options: ReadOptions): AsyncGenerator<RawRecord> {
  let text = (await readBytes(path, compression)).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new InputError('the file is empty', path);

  if (format === 'json') {
    yield* readJsonText(text, path);
  } else if (format === 'csv' || format === 'tsv') {
    const rows = parseCsv(text, format === 'tsv' ? '\t' : ',', path);
    for (let index = 0; index < rows.length; index++) yield { value: rows[index].fields, index, line: rows[index].line };
  } else {
    yield* splitText(text, options.textSplit ?? { kind: 'paragraphs' }, options.keepLineEnds ?? false);
  }
}

/**
 * Parses a `.json` file: a JSON array, an object wrapping an array in `data`,
 * a single object, or JSON lines (C4 shards are named `.json` but contain one
 * object per line).
 */
function* readJsonText(text: string, path: string): Generator<RawRecord> {
  let whole: unknown;
  let wholeError: Error | undefined;
  try {
    whole = JSON.parse(text);
  } catch (error) {
    wholeError = error as Error;
  }

  if (wholeError === undefined) {
    const items = Array.isArray(whole)
      ? whole
      : typeof whole === 'object' && whole !== null && Array.isArray((whole as { data?: unknown }).data)
        ? ((whole as { data: unknown[] }).data)
        : [whole];
    for (let index = 0; index < items.length; index++) yield { value: items[index], index };
    return;
  }

  if (!text.trimStart().startsWith('{')) {
    throw new InputError(`invalid JSON: ${wholeError.message}`, path, { cause: wholeError });
  }
  const lines = text.split('\n');
  let index = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      yield { value: JSON.parse(line), index: index++, line: i + 1 };
    } catch (error) {
      throw new InputError(`line ${i + 1}: invalid JSON (${(error as Error).message}); the file is neither one JSON value nor JSON lines`, path, { cause: error });
    }
  }
}

function* splitText(text: string, split: TextSplit, keepLineEnds: boolean): Generator<RawRecord> {
  const normalized = text.replace(/\r\n/g, '\n');
  if (split.kind === 'whole') {
    yield { value: normalized, index: 0, line: 1 };
    return;
  }

  if (split.kind === 'lines') {
    const lines = normalized.split('\n');
    // A final newline does not start another line.
    if (lines.at(-1) === '') lines.pop();
    for (let i = 0; i < lines.length; i++) yield { value: keepLineEnds ? `${lines[i]}\n` : lines[i], index: i, line: i + 1 };
    return;
  }

  // A capturing group keeps the separators in the list, so line numbers stay exact.
  const separator = split.kind === 'separator' ? new RegExp(`(${escapeRegExp(split.separator)})`) : /(\n[ \t]*\n)/;
  const pieces = normalized.split(separator);
  let index = 0;
  let line = 1;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if (i % 2 === 0) {
      const document = piece.trim();
      const startLine = line + countNewlines(piece.slice(0, piece.length - piece.trimStart().length));
      if (document !== '') yield { value: document, index: index++, line: startLine };
    }
    line += countNewlines(piece);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) count++;
  return count;
}
