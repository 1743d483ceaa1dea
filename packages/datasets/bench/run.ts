/**
 * Calibration sampling throughput on every local sample under shared data,
 * with the stories260K tokenizer (tok512.bin).
 *
 * For each dataset: build NSAMPLES windows of SEQLEN tokens (tokenization
 * included, file reading excluded) and report windows/s and source bytes/s.
 * The baseline, measured in the same run, is the tokenizer alone encoding the
 * same texts; its windows/s is its tokens/s divided by SEQLEN.
 *
 * Sizes: SCULPT_BENCH_NSAMPLES (default 128) and SCULPT_BENCH_SEQLEN (default
 * 2048). A corpus whose documents are all shorter than SEQLEN is run at its
 * longest document length minus one, and the case name states the seqlen used.
 *
 * Run: npm run bench -w @sculpt/datasets (writes bench-results/datasets.json).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { InputError, formatBenchTable, getLogger, mergeBenchRecords, setLogLevel, type BenchRecord } from '@sculpt/core';
import { Llama2cTokenizer, type CalibrationDataset, type CalibrationFormat, type Split } from '../src/index.js';
import { plugins } from '../src/plugins.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const sharedData = resolve(repoRoot, '../shared/data');
const nsamples = Number(process.env.SCULPT_BENCH_NSAMPLES ?? 128);
const seqlenTarget = Number(process.env.SCULPT_BENCH_SEQLEN ?? 2048);

const CASES: { name: string; split: Split; format: CalibrationFormat; options?: Record<string, unknown> }[] = [
  { name: 'c4', split: 'train', format: 'window' },
  { name: 'pile', split: 'all', format: 'window' },
  { name: 'oscar', split: 'all', format: 'window' },
  { name: 'wikitext2', split: 'validation', format: 'window' },
  { name: 'tinystories', split: 'train', format: 'window' },
  { name: 'gsm8k', split: 'test', format: 'icl' },
  { name: 'gsm8k', split: 'test', format: 'cot' },
  { name: 'svamp', split: 'all', format: 'icl' },
  { name: 'mawps', split: 'all', format: 'icl' },
  { name: 'anli_r1', split: 'validation', format: 'icl' },
  { name: 'anli_r3', split: 'validation', format: 'cot' },
  { name: 'esnli', split: 'test', format: 'icl' },
  { name: 'commonsense_qa', split: 'validation', format: 'icl' },
  { name: 'race', split: 'validation', format: 'icl' },
  { name: 'winogrande', split: 'train', format: 'icl', options: { size: 'xl' } },
];

async function createDataset(name: string, options: Record<string, unknown>): Promise<CalibrationDataset> {
  const plugin = await plugins.find((entry) => entry.name === name)!.load();
  const parsed = plugin.meta.options.parse({ dataDir: sharedData, hub: false, ...options });
  return (await plugin.create(parsed, { logger: getLogger(`bench:${name}`) })) as CalibrationDataset;
}

function meanMs(bench: Bench, name: string): number {
  const result = bench.getTask(name)!.result;
  if (result.state !== 'completed') throw new Error(`benchmark task ${name} did not complete (${result.state})`);
  return result.latency.mean;
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const tokenizer = await Llama2cTokenizer.fromFile(join(sharedData, 'models/stories260K/tok512.bin'));
  const results: BenchRecord[] = [];

  for (const { name, split, format, options } of CASES) {
    const dataset = await createDataset(name, options ?? {});
    const texts: string[] = [];
    for await (const record of dataset.records(split)) {
      try {
        texts.push(dataset.formatExample(record, format));
      } catch {
        // Records without a rationale have no CoT text and are not sampled either.
      }
    }
    const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);

    // Pick the seqlen: the target, or what the longest document allows for window corpora.
    let seqlen = seqlenTarget;
    try {
      await dataset.calibration({ tokenizer, format, nsamples: 1, seqlen, seed: 0, split });
    } catch (error) {
      if (!(error instanceof InputError) || format !== 'window') throw error;
      const longest = Math.max(...texts.map((text) => tokenizer.encode(text).length));
      seqlen = longest - 1;
    }

    const label = `${name} ${format} ${nsamples}x${seqlen}`;
    const bench = new Bench({ iterations: 3, time: 0, warmupIterations: 1, warmupTime: 0 });
    bench.add('sample', async () => {
      await dataset.calibration({ tokenizer, format, nsamples, seqlen, seed: 0, split });
    });
    bench.add('tokenize', () => {
      for (const text of texts) tokenizer.encode(text);
    });
    await bench.run();

    // Bytes/s is the split's source bytes over the sampling time; the sampler's pool tokenizes each drawn text once per run.
    const sampleMs = meanMs(bench, 'sample');
    const tokenizeMs = meanMs(bench, 'tokenize');
    const tokens = texts.reduce((sum, text) => sum + tokenizer.encode(text).length, 0);
    const windowsPerSecond = nsamples / (sampleMs / 1000);
    const baselineWindows = tokens / seqlen / (tokenizeMs / 1000);
    const bytesPerSecond = bytes / (sampleMs / 1000);
    const baselineBytes = bytes / (tokenizeMs / 1000);
    results.push({ case: `${label}: windows`, device: 'cpu', value: windowsPerSecond, unit: 'windows/s', baseline: baselineWindows, ratio: windowsPerSecond / baselineWindows });
    results.push({ case: `${label}: bytes of split`, device: 'cpu', value: bytesPerSecond, unit: 'bytes/s', baseline: baselineBytes, ratio: bytesPerSecond / baselineBytes });
    process.stderr.write(
      `${label.padEnd(40)} ${windowsPerSecond.toFixed(1).padStart(9)} windows/s (tokenizer alone ${baselineWindows.toFixed(1)})  ` +
        `${(bytesPerSecond / 1e6).toFixed(2)} MB/s (tokenizer alone ${(baselineBytes / 1e6).toFixed(2)})\n`,
    );
  }

  process.stderr.write(formatBenchTable(results));
  const out = await mergeBenchRecords('datasets', results, repoRoot);
  process.stderr.write(`wrote ${out}\n`);
}

await main();
