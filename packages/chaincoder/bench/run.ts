/**
 * Runs every ChainCoder benchmark case module in bench/ and merges their
 * records into bench-results/chaincoder.json (records of other cases are kept).
 *
 * Run: npm run bench -w @sculpt/chaincoder, or npx nx bench chaincoder.
 */
import { setLogLevel } from '@sculpt/core';
import { benchmarkSandbox, mergeResults, type BenchRecord } from './model.js';
import { benchmarkTokenizer } from './tokenizer.js';

setLogLevel('warn');
const cases: [string, () => Promise<BenchRecord[]>][] = [
  ['tokenizer', benchmarkTokenizer],
  ['sandbox', benchmarkSandbox],
];
for (const [name, benchmark] of cases) {
  process.stderr.write(`running ${name} benchmarks\n`);
  const records = await benchmark();
  await mergeResults(records);
  for (const record of records) {
    const baseline = record.baseline === null ? '' : ` (baseline ${record.baseline.toFixed(1)}, ratio ${record.ratio?.toFixed(3)})`;
    process.stdout.write(`${record.case}: ${record.value.toFixed(1)} ${record.unit}${baseline}\n`);
  }
}
