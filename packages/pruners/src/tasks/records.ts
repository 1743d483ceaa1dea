/** Locating the test file of an evaluation task in a data directory. */
import { existsSync } from 'node:fs';
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
