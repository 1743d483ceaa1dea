/**
 * Per-layer cost of Wanda and SparseGPT, and end-to-end pruning of a random
 * Llama-shaped model, on the CPU device. Each case runs sculpt's
 * implementation and the straightforward onnxruntime-matmul baseline
 * (`baseline.ts`) in the same process and reports the speed ratio
 * (baseline time / sculpt time, above 1 = sculpt faster).
 *
 * Sizes: the full cases are 4096×4096 and 4096×11008 weights with 16,384
 * calibration tokens. SCULPT_BENCH_SCALE (default 0.25) scales every
 * dimension: 0.25 gives 1024×1024 and 1024×2752 with 4,096 tokens. The
 * end-to-end case is a 4-block Llama with dim 1024·scale.
 *
 * Run: npm run bench -w @sculpt/pruners (writes bench-results/pruners.json).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { Random, setLogLevel, writeFileAtomic } from '@sculpt/core';
import { loadModel } from '@sculpt/runtime-gpu';
import {
  createDeviceGemm,
  createSparseGptPruner,
  createWandaPruner,
  HessianAccumulator,
  pruneModel,
  RowScaler,
  selectPerRow,
  sparseGpt,
  wandaScore,
  type Pruner,
} from '../src/index.js';
import { baselineHessian, baselineScaler, baselineSparseGpt, baselineWanda } from './baseline.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const scale = Number(process.env.SCULPT_BENCH_SCALE ?? 0.25);
const SEQUENCE = 512;

interface BenchRecord {
  case: string;
  device: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
}

function randomMatrix(length: number, random: Random): Float32Array {
  return Float32Array.from({ length }, () => random.normal());
}

/** Mean milliseconds of one run of each function (one iteration each: the cases take seconds). */
async function time(name: string, ours: () => Promise<unknown>, baseline: () => Promise<unknown>): Promise<{ ours: number; baseline: number }> {
  const bench = new Bench({ iterations: 1, time: 0, warmup: false });
  bench.add(`${name} sculpt`, ours);
  bench.add(`${name} baseline`, baseline);
  await bench.run();
  const mean = (task: string) => {
    const result = bench.getTask(task)!.result;
    if (result.state !== 'completed') throw new Error(`benchmark task ${task} did not complete (${result.state})`);
    return result.latency.mean;
  };
  return { ours: mean(`${name} sculpt`), baseline: mean(`${name} baseline`) };
}

function peakMiB(): number {
  return (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
}

async function layerCases(records: BenchRecord[]): Promise<void> {
  const random = new Random(1);
  const d = Math.round(4096 * scale);
  const ffn = Math.round(11008 * scale);
  const tokens = Math.round(16384 * scale);
  const sequences = Math.max(1, Math.round(tokens / SEQUENCE));
  const gemm = createDeviceGemm();

  for (const [rows, cols] of [
    [d, d],
    [d, ffn],
  ]) {
    const weight = randomMatrix(rows * cols, random);
    const inputs = Array.from({ length: sequences }, () => randomMatrix(SEQUENCE * cols, random));
    const label = `${rows}x${cols}, ${sequences * SEQUENCE} tokens`;

    const wanda = await time(
      `wanda ${label}`,
      async () => {
        const scaler = new RowScaler(cols);
        for (const x of inputs) scaler.addBatch({ tokens: SEQUENCE, features: cols, data: x });
        selectPerRow(wandaScore({ rows, cols, data: weight }, scaler.values), 0.5);
      },
      async () => baselineWanda(weight, rows, cols, baselineScaler(inputs, SEQUENCE, cols), 0.5),
    );
    records.push({ case: `wanda layer ${label}`, device: 'cpu', value: wanda.ours / 1000, unit: 's', baseline: wanda.baseline / 1000, ratio: wanda.baseline / wanda.ours });

    const sparse = await time(
      `sparsegpt ${label}`,
      async () => {
        const hessian = new HessianAccumulator(cols, gemm);
        for (const x of inputs) await hessian.addBatch({ tokens: SEQUENCE, features: cols, data: x });
        await sparseGpt({ rows, cols, data: weight }, hessian.values, { sparsity: 0.5, gemm });
      },
      async () => baselineSparseGpt(weight, rows, cols, await baselineHessian(inputs, SEQUENCE, cols), 0.5),
    );
    records.push({ case: `sparsegpt layer ${label}`, device: 'cpu', value: sparse.ours / 1000, unit: 's', baseline: sparse.baseline / 1000, ratio: sparse.baseline / sparse.ours });
    records.push({ case: `peak RSS after ${label}`, device: 'cpu', value: peakMiB(), unit: 'MiB', baseline: null, ratio: null });
    console.error(`${label}: wanda ${(wanda.ours / 1000).toFixed(2)} s vs ${(wanda.baseline / 1000).toFixed(2)} s, sparsegpt ${(sparse.ours / 1000).toFixed(2)} s vs ${(sparse.baseline / 1000).toFixed(2)} s`);
  }
}

/** Writes a random llama2.c checkpoint with 4 blocks (see llama2.c's legacy export for the layout). */
async function writeRandomLlama(file: string, dim: number): Promise<void> {
  const random = new Random(2);
  const layers = 4;
  const hidden = Math.round((dim * 8) / 3 / 32) * 32;
  const heads = Math.max(1, dim / 64);
  const vocab = 512;
  const seqLen = 256;
  const sizes = [vocab * dim, layers * dim, layers * dim * dim, layers * dim * dim, layers * dim * dim, layers * dim * dim, layers * dim, layers * hidden * dim, layers * dim * hidden, layers * hidden * dim, dim, seqLen * 32, seqLen * 32];
  const header = Buffer.from(Int32Array.from([dim, hidden, layers, heads, heads, vocab, seqLen]).buffer);
  const parts = sizes.map((size, i) => {
    const isNorm = i === 1 || i === 6 || i === 10;
    const values = isNorm ? new Float32Array(size).fill(1) : Float32Array.from({ length: size }, () => random.normal() * 0.05);
    return Buffer.from(values.buffer);
  });
  await writeFile(file, Buffer.concat([header, ...parts]));
}

/** Wraps the baseline layer algorithms as a Pruner, so the pipeline around them is the same as sculpt's. */
function baselinePruner(kind: 'wanda' | 'sparsegpt'): Pruner {
  return {
    statistics: kind === 'wanda' ? ['rowScaler'] : ['hessian'],
    supportsPattern: false,
    async pruneLayer(layer) {
      const { rows, cols, data } = layer.weight;
      const pruned =
        kind === 'wanda'
          ? baselineWanda(data, rows, cols, layer.statistics.rowScaler!, layer.sparsity)
          : await baselineSparseGpt(data, rows, cols, layer.statistics.hessian!, layer.sparsity);
      return { weight: { rows, cols, data: pruned }, mask: { rows, cols, data: Uint8Array.from(pruned, (value) => (value === 0 ? 1 : 0)) } };
    },
  };
}

async function endToEndCases(records: BenchRecord[]): Promise<void> {
  const dim = Math.max(64, Math.round(1024 * scale));
  const dir = await mkdtemp(path.join(tmpdir(), 'sculpt-bench-'));
  const file = path.join(dir, 'random-llama.bin');
  try {
    await writeRandomLlama(file, dim);
    const random = new Random(4);
    const sequences = Array.from({ length: 8 }, () => ({ tokens: Array.from({ length: 128 }, () => random.int(0, 511)) }));
    for (const kind of ['wanda', 'sparsegpt'] as const) {
      const ours: Pruner = kind === 'wanda' ? createWandaPruner() : createSparseGptPruner();
      const result = await time(
        `end-to-end ${kind}`,
        async () => {
          const model = await loadModel(file);
          await pruneModel(model, { pruner: ours, sparsity: 0.5, sequences, gemm: createDeviceGemm() });
          await model.close();
        },
        async () => {
          const model = await loadModel(file);
          await pruneModel(model, { pruner: baselinePruner(kind), sparsity: 0.5, sequences, gemm: createDeviceGemm() });
          await model.close();
        },
      );
      records.push({ case: `end-to-end ${kind}, 4-block llama dim ${dim}, 8x128 tokens`, device: 'cpu', value: result.ours / 1000, unit: 's', baseline: result.baseline / 1000, ratio: result.baseline / result.ours });
      console.error(`end-to-end ${kind}: ${(result.ours / 1000).toFixed(2)} s vs ${(result.baseline / 1000).toFixed(2)} s`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  setLogLevel('warn');
  // Start onnxruntime once so neither side of the first case pays for it.
  await createDeviceGemm(undefined, 0).subtractProduct(2, 2, 2, new Float64Array(4), 0, 2, new Float64Array(4), 0, 2, new Float64Array(4), 0, 2);
  const records: BenchRecord[] = [];
  await layerCases(records);
  await endToEndCases(records);
  const out = path.join(repoRoot, 'bench-results', 'pruners.json');
  await writeFileAtomic(out, `${JSON.stringify(records, null, 2)}\n`);
  console.error(`wrote ${out}`);
}

await main();
