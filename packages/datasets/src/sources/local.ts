/**
 * Finds a dataset's local files under a data directory.
 *
 * Convention: `<data dir>/<dataset folder>/**` contains the files in the layout
 * the dataset is distributed in. A file belongs to a split when a part of its
 * relative path (split at `/`, `-`, `_`, `.`) names the split (`train`;
 * `dev`/`valid`/`validation`/`val`; `test`); a file naming no split holds
 * `all` (e.g. SVAMP.json). Files whose path contains `.sample.` are found too.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Split } from '../types.js';
import { detectFormat } from '../io/read-records.js';

export const SPLIT_ALIASES: Record<Exclude<Split, 'all'>, readonly string[]> = {
  train: ['train'],
  validation: ['validation', 'valid', 'dev', 'val'],
  test: ['test'],
};

const MAX_DEPTH = 5;

export interface LocalLayout {
  /** Folders under the data directory to search, first match wins (e.g. `['gsm8k', 'grade_school_math/data']`). */
  folders: readonly string[];
  /** Returns false for files that are not records of this dataset (rationale files, readmes). */
  accept?: (relativePath: string) => boolean;
  /** Overrides the split of a file, e.g. WinoGrande keeps only the training size asked for. */
  splitOf?: (relativePath: string, tokens: readonly string[]) => Split | null | undefined;
  /** Extensions that count as data besides the usual ones (RACE's per-passage `.txt` files are JSON). */
  extraFormats?: boolean;
}

/** Tokens of a relative path, lower-cased. */
export function pathTokens(relativePath: string): string[] {
  return relativePath
    .toLowerCase()
    .split(/[\\/\-_.\s]+/)
    .filter((token) => token !== '');
}

/** Returns the split a relative path names, or `all` when it names none. */
export function splitOfPath(relativePath: string): Split {
  const tokens = pathTokens(relativePath);
  for (const [split, aliases] of Object.entries(SPLIT_ALIASES) as [Split, readonly string[]][]) {
    if (aliases.some((alias) => tokens.includes(alias))) return split;
  }
  return 'all';
}

async function listFiles(root: string, depth = 0): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  // Code-unit order, not locale order, so the file order is the same on every machine.
  entries.sort((a, b) => {
    if (a.name === b.name) return 0;
    return a.name < b.name ? -1 : 1;
  });
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(root, entry.name);
    if (entry.isDirectory() && depth < MAX_DEPTH) files.push(...(await listFiles(path, depth + 1)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

export interface LocalSearch {
  /** Files of the requested split, sorted by path. */
  files: string[];
  /** Folders that were searched, for error messages. */
  searched: string[];
  /** Splits that do have files, for error messages. */
  available: Split[];
}

/** Finds the local files of one split, searching the layout's folders in order. */
export async function findLocalFiles(dataDir: string, layout: LocalLayout, split: Split): Promise<LocalSearch> {
  const searched: string[] = [];
  const available = new Set<Split>();
  for (const folder of layout.folders) {
    const root = join(dataDir, folder);
    searched.push(root);
    const candidates = (await listFiles(root)).filter((file) => {
      const path = relative(root, file).split(sep).join('/');
      if (layout.accept && !layout.accept(path)) return false;
      return layout.extraFormats === true || detectFormat(path).format !== undefined;
    });

    const bySplit = new Map<Split, string[]>();
    for (const file of candidates) {
      const path = relative(root, file).split(sep).join('/');
      const override = layout.splitOf?.(path, pathTokens(path));
      if (override === null) continue;
      const fileSplit = override ?? splitOfPath(path);
      bySplit.set(fileSplit, [...(bySplit.get(fileSplit) ?? []), file]);
      available.add(fileSplit);
    }
    const files = bySplit.get(split);
    if (files !== undefined && files.length > 0) return { files, searched, available: [...available] };
  }
  return { files: [], searched, available: [...available] };
}
