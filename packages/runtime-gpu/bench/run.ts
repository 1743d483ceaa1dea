/**
 * Runs every benchmark module in this folder (`npm run bench -w
 * @sculpt/runtime-gpu` or `npx nx bench runtime-gpu`).
 *
 * Each module `bench/<name>.ts` exports `run<Name>Benchmarks()`, which returns
 * records `{case, device, value, unit, baseline, ratio}`. A module may export
 * `save<Name>Records(records)` to write them. Records of a module without a
 * save function are merged into bench-results/runtime-gpu.json by case and
 * device (mergeBenchRecords from @sculpt/core).
 * SCULPT_BENCH_ONLY=foundation,nn runs only the named modules.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatBenchTable, mergeBenchRecords, type BenchRecord } from '@sculpt/core';
import { disposeDevices } from '../src/index.js';

type BenchModule = Record<string, unknown>;

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.env.SCULPT_BENCH_ONLY?.split(',').map((name) => name.trim()).filter(Boolean);

const modules = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.slice(0, -3))
  .filter((name) => !only || only.includes(name))
  .sort();

for (const name of modules) {
  const module = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as BenchModule;
  const runners = Object.entries(module).filter(([key, value]) => /^run\w*Benchmarks$/.test(key) && typeof value === 'function');
  if (runners.length === 0) {
    process.stdout.write(`bench/${name}.ts exports no run…Benchmarks function; skipped\n`);
    continue;
  }
  for (const [runnerName, runner] of runners) {
    process.stdout.write(`\n== bench/${name}.ts: ${runnerName} ==\n`);
    const records = (await (runner as () => Promise<BenchRecord[]>)()) as BenchRecord[];
    process.stdout.write(formatBenchTable(records));
    const saver = Object.entries(module).find(([key, value]) => /^save\w*Records$/.test(key) && typeof value === 'function');
    const file = saver ? await (saver[1] as (records: BenchRecord[]) => Promise<string>)(records) : await mergeBenchRecords('runtime-gpu', records);
    process.stdout.write(`wrote ${file}\n`);
  }
}

await disposeDevices();
process.exit(0);
