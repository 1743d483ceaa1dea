/**
 * Benchmarks of core's hot paths, each against a baseline measured in the
 * same run:
 *
 * - results store: completing a unit with METRICS metrics in one transaction
 *   (what runUnits does), against the same rows written in autocommit mode
 *   (one transaction per row). Reported in units/s.
 * - beam search (width 4) against greedy decoding on the same random bigram
 *   model (vocabulary 512, the size of the stories260K tokenizer). Reported in
 *   generated tokens/s of the returned best sequence.
 *
 * Sizes: SCULPT_BENCH_METRICS (default 200 metrics per unit) and
 * SCULPT_BENCH_TOKENS (default 64 new tokens per sequence).
 *
 * Run: npm run bench -w @sculpt/core (writes bench-results/core.json).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { formatBenchTable, mergeBenchRecords, Random, Registry, ResultsStore, setLogLevel, type BenchRecord, type Decoder, type DecodingModel } from '../src/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const metricsPerUnit = Number(process.env.SCULPT_BENCH_METRICS ?? 200);
const newTokens = Number(process.env.SCULPT_BENCH_TOKENS ?? 64);

function meanMs(bench: Bench, name: string): number {
  const result = bench.getTask(name)!.result;
  if (result.state !== 'completed') throw new Error(`benchmark task ${name} did not complete (${result.state})`);
  return result.latency.mean;
}

async function benchStore(dir: string): Promise<BenchRecord> {
  const store = ResultsStore.open(join(dir, 'bench.sqlite'));
  const run = store.createRun('bench', {});
  const metrics = Array.from({ length: metricsPerUnit }, (_, i) => ({ name: 'loss', value: i, step: i, tags: { layer: i % 8 } }));
  let next = 0;
  const insert = store.db.prepare(
    `INSERT INTO metrics (run_id, unit_key, name, value, step, tags, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );

  const bench = new Bench({ time: 2000, warmupTime: 200 });
  bench.add('transaction', () => {
    const key = `u${next++}`;
    store.planUnits(run.id, [key]);
    store.startUnit(run.id, key);
    store.completeUnit(run.id, key, { key }, metrics);
  });
  bench.add('autocommit', () => {
    const key = `a${next++}`;
    for (const metric of metrics) insert.run(run.id, key, metric.name, metric.value, metric.step, JSON.stringify(metric.tags), Date.now());
  });
  await bench.run();
  store.close();

  const unitsPerSecond = 1000 / meanMs(bench, 'transaction');
  const baseline = 1000 / meanMs(bench, 'autocommit');
  return {
    case: `results store: complete unit with ${metricsPerUnit} metrics (vs autocommit rows)`,
    device: 'cpu',
    value: unitsPerSecond,
    unit: 'units/s',
    baseline,
    ratio: unitsPerSecond / baseline,
  };
}

/** Builds a bigram model with fixed random logits over a vocabulary of 512. */
function bigramModel(): DecodingModel<{ last: number[] }> {
  const vocab = 512;
  const random = new Random(1);
  const table = Array.from({ length: vocab }, () => Float32Array.from({ length: vocab }, () => random.normal() * 3));
  return {
    vocabSize: vocab,
    start: (prompts) => {
      const last = prompts.map((prompt) => prompt[prompt.length - 1]);
      return { state: { last }, logits: last.map((token) => table[token]) };
    },
    step: (state, tokens) => {
      state.last = [...tokens];
      return tokens.map((token) => table[token]);
    },
    reorder: (state, indices) => ({ last: indices.map((i) => state.last[i]) }),
    dispose: () => {},
  };
}

async function benchDecoding(): Promise<BenchRecord> {
  const registry = new Registry({ manifests: [] });
  const greedy = (await registry.create('decoder', 'greedy', { maxNewTokens: newTokens })) as Decoder;
  const beam = (await registry.create('decoder', 'beam', { maxNewTokens: newTokens, width: 4 })) as Decoder;
  const model = bigramModel();
  const prompts = [[1], [2], [3], [4]];
  let generated = { greedy: 0, beam: 0 };

  const bench = new Bench({ time: 2000, warmupTime: 200 });
  bench.add('greedy', async () => {
    const results = await greedy.decode(model, prompts);
    generated.greedy = results.reduce((sum, r) => sum + r.sequences[0].tokens.length, 0);
  });
  bench.add('beam', async () => {
    const results = await beam.decode(model, prompts);
    generated.beam = results.reduce((sum, r) => sum + r.sequences[0].tokens.length, 0);
  });
  await bench.run();

  const beamRate = generated.beam / (meanMs(bench, 'beam') / 1000);
  const greedyRate = generated.greedy / (meanMs(bench, 'greedy') / 1000);
  generated = { greedy: 0, beam: 0 };
  return {
    case: `beam search width 4, vocab 512, ${newTokens} new tokens, 4 prompts (vs greedy)`,
    device: 'cpu',
    value: beamRate,
    unit: 'tokens/s',
    baseline: greedyRate,
    ratio: beamRate / greedyRate,
  };
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const dir = mkdtempSync(join(tmpdir(), 'sculpt-core-bench-'));
  try {
    const results = [await benchStore(dir), await benchDecoding()];
    process.stderr.write(formatBenchTable(results));
    const file = await mergeBenchRecords('core', results, repoRoot);
    process.stderr.write(`wrote ${file}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
