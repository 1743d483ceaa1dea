/**
 * Benchmark records shared by every package's `nx bench` suite. Each suite
 * writes `bench-results/<package>.json` at the repository root as an array of
 * records. A suite that runs only some of its cases replaces those records
 * and keeps the rest, so a partial run does not erase earlier figures.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../fs.js';

export interface BenchRecord {
  case: string;
  device: string;
  value: number;
  unit: string;
  /** The same work through the baseline (usually onnxruntime-node) in the same run; null when the case has none. */
  baseline: number | null;
  /** How many times better than the baseline (value / baseline for rates, baseline / value for times); null without a baseline. */
  ratio: number | null;
  /** Optional details such as sizes, iterations or peak memory. */
  [detail: string]: unknown;
}

/** Finds the workspace root (the folder containing nx.json) at or above `start`. */
export function findWorkspaceRoot(start: string): string {
  let folder = resolve(start);
  for (;;) {
    if (existsSync(join(folder, 'nx.json'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) throw new InputError(`No nx.json found at or above ${start}; run benchmarks inside the sculpt workspace.`);
    folder = parent;
  }
}

/** Path of a package's results file: `<root>/bench-results/<name>.json`. */
export function benchResultsPath(name: string, root: string = findWorkspaceRoot(process.cwd())): string {
  return join(root, 'bench-results', `${name}.json`);
}

const recordKey = (record: BenchRecord): string => `${record.case}\u0000${record.device}`;

/**
 * Merges records into `bench-results/<name>.json`: records with the same case
 * and device are replaced, others kept, and the file is written atomically.
 * Returns the path written.
 */
export async function mergeBenchRecords(name: string, records: readonly BenchRecord[], root?: string): Promise<string> {
  const file = benchResultsPath(name, root);
  let existing: BenchRecord[] = [];
  if (existsSync(file)) {
    const text = await readFile(file, 'utf8');
    try {
      existing = JSON.parse(text) as BenchRecord[];
    } catch (error) {
      throw new InputError(`${file} is not valid JSON (${(error as Error).message}); fix or delete it and rerun the benchmark.`, file);
    }
    if (!Array.isArray(existing)) throw new InputError(`${file} must contain a JSON array of benchmark records; delete it and rerun.`, file);
  }
  const replaced = new Set(records.map(recordKey));
  const merged = [...existing.filter((record) => !replaced.has(recordKey(record))), ...records];
  await writeFileAtomic(file, `${JSON.stringify(merged, null, 2)}\n`);
  return file;
}

/** Formats records as an aligned text table for the terminal. */
export function formatBenchTable(records: readonly BenchRecord[]): string {
  const number = (value: number | null): string => (value === null ? '-' : value.toFixed(Math.abs(value) < 10 ? 3 : 1));
  const caseWidth = Math.max(4, ...records.map((record) => record.case.length));
  const deviceWidth = Math.max(6, ...records.map((record) => record.device.length));
  const row = (cells: string[]): string =>
    [cells[0].padEnd(caseWidth), cells[1].padEnd(deviceWidth), cells[2].padStart(10), cells[3].padEnd(10), cells[4].padStart(10), cells[5].padStart(7)].join(' ');
  const lines = records.map((record) =>
    row([record.case, record.device, number(record.value), record.unit, number(record.baseline), number(record.ratio)]),
  );
  return `${[row(['case', 'device', 'value', 'unit', 'baseline', 'ratio']), ...lines].join('\n')}\n`;
}
