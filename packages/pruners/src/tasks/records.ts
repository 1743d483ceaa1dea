/** Reading the test splits of the evaluation tasks from a data directory. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '@sculpt/core';

/** Returns the first of `candidates` (relative to `dataDir`) that exists. */
export function findDataFile(dataDir: string, task: string, candidates: readonly string[]): string {
  for (const candidate of candidates) {
    const file = path.resolve(dataDir, candidate);
    if (existsSync(file)) return file;
  }
  throw new InputError(
    `no test data for task ${task} in ${dataDir}: expected one of ${candidates.join(', ')}. Pass --data-dir with a directory that contains it`,
  );
}

/** Parses JSON Lines, naming the file and line of a malformed record. */
export async function readJsonLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  const records: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch (error) {
      throw new InputError(`line ${index + 1} is not valid JSON (${(error as Error).message})`, file);
    }
  });
  return records;
}

export async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError(`not valid JSON (${(error as Error).message})`, file);
  }
}

/** Reads a string field, failing with the file and record index when it is missing. */
export function stringField(record: Record<string, unknown>, field: string, file: string, index: number): string {
  const value = record[field];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new InputError(`record ${index} has no string field "${field}"`, file);
}
