/**
 * Runs the ChainCoder benchmark cases and merges their records into
 * bench-results/chaincoder.json (records of other cases are kept):
 * tokenizer, sandbox, training (cpu, webgpu and the onnxruntime baseline)
 * and generation. Each case module documents its size variables.
 *
 * SCULPT_BENCH_CASES=training,generation runs a subset.
 * SCULPT_BENCH_RESULTS_ROOT=DIR writes DIR/bench-results/chaincoder.json
 * instead, for trial runs at small sizes.
 *
 * Run: npm run bench -w @sculpt/chaincoder, or npx nx bench chaincoder.
 */
import { formatBenchTable, mergeBenchRecords, setLogLevel, type BenchRecord } from '@sculpt/core';
import { disposeDevices } from '@sculpt/runtime-gpu';
import { benchmarkGeneration } from './generation.js';
import { benchmarkSandbox } from './sandbox.js';
import { benchmarkTokenizer } from './tokenizer.js';
import { benchmarkTraining } from './training.js';

setLogLevel('warn');
const cases: [string, () => Promise<BenchRecord[]>][] = [
  ['tokenizer', benchmarkTokenizer],
  ['sandbox', benchmarkSandbox],
  ['training', benchmarkTraining],
  ['generation', benchmarkGeneration],
];
const selected = process.env.SCULPT_BENCH_CASES?.split(',').map((name) => name.trim());
const unknown = selected?.filter((name) => !cases.some(([known]) => known === name)) ?? [];
if (unknown.length > 0) {
  throw new Error(`SCULPT_BENCH_CASES names unknown cases ${JSON.stringify(unknown)}; expected some of ${cases.map(([name]) => name).join(', ')}.`);
}

const all: BenchRecord[] = [];
for (const [name, benchmark] of cases) {
  if (selected !== undefined && !selected.includes(name)) continue;
  process.stderr.write(`running ${name} benchmarks\n`);
  const records = await benchmark();
  // Merged after each case, so an interrupted run keeps the cases that finished.
  await mergeBenchRecords('chaincoder', records, process.env.SCULPT_BENCH_RESULTS_ROOT);
  all.push(...records);
}
process.stdout.write(formatBenchTable(all));
await disposeDevices();
