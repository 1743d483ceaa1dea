/**
 * Benchmarks of the runtime foundation: square and transformer-shaped
 * matmuls, streamed Hessian accumulation and Cholesky factorization, on the
 * cpu device and on webgpu when an adapter exists.
 *
 * Baseline, measured in the same run: the same work through onnxruntime-node
 * directly (a MatMul session for products, a Gemm(transA=1) session for XᵀX).
 * ONNX has no Cholesky op, so Cholesky cases compare with the ORT MatMul rate
 * at the same order d and count d³/3 flops for the factorization. Values are
 * GFLOP/s from the fastest of a few calls; `ratio` is value / baseline, so
 * above 1 is faster than ORT.
 *
 * Sizes: SCULPT_BENCH_SCALE (default 1) divides every dimension, for quick
 * runs. On a software adapter (lavapipe) the webgpu cases skip the sizes
 * that take minutes there (2048² matmul, d = 4096 Hessian and Cholesky) and
 * run the transformer-shaped product with 64 rows instead of 512; the skips
 * are printed. Run alone with `npx tsx --conditions=@sculpt/source bench/foundation.ts`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random, writeFileAtomic } from '@sculpt/core';
import * as ort from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { cholesky, disposeDevices, getDevice, HessianAccumulator, matmul, probeWebGpuAdapter, type Device, type Tensor } from '../src/index.js';
import { GraphBuilder } from '../src/onnx/index.js';

export interface BenchRecord {
  case: string;
  device: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
}

const PREFIX = 'foundation: ';
const scale = Math.max(1, Number(process.env.SCULPT_BENCH_SCALE ?? 1));
const HESSIAN_TOKENS = 8192;
const HESSIAN_CHUNK = 2048;

function dim(value: number): number {
  return Math.max(4, Math.round(value / scale / 4) * 4);
}

/**
 * Fastest milliseconds per call after one warm-up call (which also compiles
 * shaders or sessions). The minimum rather than the mean, because the
 * benchmark hosts are shared and other processes only ever add time.
 */
async function timeMs(fn: () => Promise<void>, iterations: number): Promise<number> {
  const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
  bench.add('case', fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`benchmark failed: ${JSON.stringify(result)}`);
  return result.latency.min;
}

function gflops(flops: number, ms: number): number {
  return flops / (ms / 1000) / 1e9;
}

function randomData(size: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: size }, () => random.nextFloat() * 2 - 1);
}

/** Iterations for a case of `flops`: fewer for long runs so the suite stays within minutes. */
function iterationsFor(flops: number): number {
  if (flops > 1e11) return 2;
  if (flops > 1e10) return 3;
  return 5;
}

class OrtBaseline {
  readonly #sessions = new Map<string, Promise<ort.InferenceSession>>();

  #session(key: string, build: () => Uint8Array): Promise<ort.InferenceSession> {
    let session = this.#sessions.get(key);
    if (!session) {
      session = ort.InferenceSession.create(build(), { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      this.#sessions.set(key, session);
    }
    return session;
  }

  /** GFLOP/s of A·B through an ORT MatMul session. */
  async matmul(m: number, k: number, n: number, a: Float32Array, b: Float32Array): Promise<number> {
    const session = await this.#session('matmul', () => {
      const graph = new GraphBuilder('matmul');
      graph.input('A', ['m', 'k']);
      graph.input('B', ['k', 'n']);
      graph.node('MatMul', ['A', 'B'], {}, ['Y']);
      graph.output('Y');
      return graph.build();
    });
    const feeds = { A: new ort.Tensor('float32', a, [m, k]), B: new ort.Tensor('float32', b, [k, n]) };
    const flops = 2 * m * k * n;
    return gflops(flops, await timeMs(async () => void (await session.run(feeds)), iterationsFor(flops)));
  }

  /** GFLOP/s of Σ XᵀX over token chunks through an ORT Gemm(transA=1) session. */
  async gram(chunks: Float32Array[], rows: number, d: number): Promise<number> {
    const session = await this.#session('gram', () => {
      const graph = new GraphBuilder('gram');
      graph.input('X', ['rows', 'd']);
      graph.node('Gemm', ['X', 'X'], { transA: 1 }, ['Y']);
      graph.output('Y');
      return graph.build();
    });
    const flops = 2 * rows * chunks.length * d * d;
    const feeds = chunks.map((chunk) => ({ X: new ort.Tensor('float32', chunk, [rows, d]) }));
    return gflops(flops, await timeMs(async () => {
      for (const feed of feeds) await session.run(feed);
    }, iterationsFor(flops)));
  }

  async dispose(): Promise<void> {
    for (const session of this.#sessions.values()) await (await session).release();
  }
}

interface Devices {
  cpu: Device;
  gpu: Device | null;
}

async function openDevices(): Promise<Devices> {
  const cpu = await getDevice('cpu');
  const probe = await probeWebGpuAdapter();
  return { cpu, gpu: probe.adapter ? await getDevice('webgpu') : null };
}

function deviceLabel(device: Device): string {
  return device.kind === 'webgpu' && device.info.isFallbackAdapter ? 'webgpu (software)' : device.kind;
}

function skip(name: string, device: Device, reason: string): void {
  process.stdout.write(`skipped ${name} on ${deviceLabel(device)}: ${reason}\n`);
}

async function matmulRate(device: Device, m: number, k: number, n: number, a: Float32Array, b: Float32Array): Promise<number> {
  const ta = device.tensor(a, [m, k]);
  const tb = device.tensor(b, [k, n]);
  const flops = 2 * m * k * n;
  const ms = await timeMs(async () => {
    const c = matmul(ta, tb);
    await device.sync();
    c.dispose();
  }, iterationsFor(flops));
  ta.dispose();
  tb.dispose();
  return gflops(flops, ms);
}

function record(records: BenchRecord[], name: string, device: string, value: number, baseline: number | null): void {
  records.push({ case: `${PREFIX}${name}`, device, value, unit: 'GFLOP/s', baseline, ratio: baseline === null ? null : value / baseline });
}

async function matmulCases(devices: Devices, ort: OrtBaseline, records: BenchRecord[]): Promise<void> {
  const shapes: { name: string; m: number; k: number; n: number; gpuRows?: number; gpuSkip?: boolean }[] = [
    ...[256, 512, 1024, 2048].map((size) => ({ name: `matmul ${dim(size)}²`, m: dim(size), k: dim(size), n: dim(size), gpuSkip: size >= 2048 })),
    { name: 'matmul 512×4096·4096×4096 (attention projection)', m: dim(512), k: dim(4096), n: dim(4096), gpuRows: dim(64) },
    { name: 'matmul 512×4096·4096×11008 (MLP up projection)', m: dim(512), k: dim(4096), n: dim(11008), gpuRows: dim(64) },
  ];
  for (const shape of shapes) {
    const a = randomData(shape.m * shape.k, 1);
    const b = randomData(shape.k * shape.n, 2);
    const baseline = await ort.matmul(shape.m, shape.k, shape.n, a, b);
    record(records, shape.name, 'onnxruntime-cpu', baseline, null);
    record(records, shape.name, 'cpu', await matmulRate(devices.cpu, shape.m, shape.k, shape.n, a, b), baseline);

    const gpu = devices.gpu;
    if (gpu === null) continue;
    const software = gpu.info.isFallbackAdapter;
    if (software && shape.gpuSkip) {
      skip(shape.name, gpu, 'about 17 GFLOP per call, over a minute per measurement on a software adapter');
      continue;
    }
    const rows = software && shape.gpuRows !== undefined ? shape.gpuRows : shape.m;
    const name = rows === shape.m ? shape.name : `${shape.name} with ${rows} rows`;
    const gpuA = a.subarray(0, rows * shape.k);
    const gpuBaseline = rows === shape.m ? baseline : await ort.matmul(rows, shape.k, shape.n, gpuA, b);
    record(records, name, deviceLabel(gpu), await matmulRate(gpu, rows, shape.k, shape.n, gpuA, b), gpuBaseline);
  }
}

async function hessianRate(device: Device, chunks: Float32Array[], rows: number, d: number): Promise<number> {
  const tensors = chunks.map((chunk) => device.tensor(chunk, [rows, d]));
  const flops = 2 * rows * chunks.length * d * d;
  const ms = await timeMs(async () => {
    const hessian = new HessianAccumulator(device, d);
    for (const tensor of tensors) hessian.add(tensor);
    await device.sync();
    hessian.dispose();
  }, iterationsFor(flops));
  for (const tensor of tensors) tensor.dispose();
  return gflops(flops, ms);
}

async function hessianCases(devices: Devices, ort: OrtBaseline, records: BenchRecord[]): Promise<void> {
  const rows = dim(HESSIAN_CHUNK);
  const count = HESSIAN_TOKENS / HESSIAN_CHUNK;
  for (const size of [1024, 4096]) {
    const d = dim(size);
    const name = `hessian d=${d} over ${rows * count} tokens (${count} chunks)`;
    const chunks = Array.from({ length: count }, (_, i) => randomData(rows * d, 10 + i));
    const baseline = await ort.gram(chunks, rows, d);
    record(records, name, 'onnxruntime-cpu Gemm(transA=1)', baseline, null);
    record(records, name, 'cpu', await hessianRate(devices.cpu, chunks, rows, d), baseline);
    const gpu = devices.gpu;
    if (gpu === null) continue;
    if (gpu.info.isFallbackAdapter && size >= 4096) {
      skip(name, gpu, 'about 140 GFLOP (upper triangle), several minutes on a software adapter');
      continue;
    }
    record(records, name, deviceLabel(gpu), await hessianRate(gpu, chunks, rows, d), baseline);
  }
}

/** Builds a symmetric positive-definite matrix XᵀX/rows + I from seeded X. */
function spdMatrix(d: number): Float32Array {
  const rows = d + 16;
  const x = randomData(rows * d, 99);
  const h = new Float64Array(d * d);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < d; i++) {
      const xi = x[r * d + i];
      if (xi === 0) continue;
      for (let j = 0; j <= i; j++) h[i * d + j] += xi * x[r * d + j];
    }
  }
  const out = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const value = h[i * d + j] / rows + (i === j ? 1 : 0);
      out[i * d + j] = value;
      out[j * d + i] = value;
    }
  }
  return out;
}

async function choleskyRate(device: Device, matrix: Float32Array, d: number): Promise<number> {
  const a = device.tensor(matrix, [d, d]);
  const flops = d ** 3 / 3;
  const ms = await timeMs(async () => {
    const l: Tensor = await cholesky(a);
    l.dispose();
  }, flops > 1e10 ? 1 : 3);
  a.dispose();
  return gflops(flops, ms);
}

async function choleskyCases(devices: Devices, ort: OrtBaseline, records: BenchRecord[]): Promise<void> {
  for (const size of [1024, 4096]) {
    const d = dim(size);
    const name = `cholesky d=${d} (d³/3 flops; baseline: ORT MatMul at d)`;
    const matrix = spdMatrix(d);
    const baseline = await ort.matmul(d, d, d, matrix, matrix);
    record(records, name, 'onnxruntime-cpu MatMul', baseline, null);
    record(records, name, 'cpu (f64)', await choleskyRate(devices.cpu, matrix, d), baseline);
    const gpu = devices.gpu;
    if (gpu === null) continue;
    if (gpu.info.isFallbackAdapter && size >= 4096) {
      skip(name, gpu, 'several minutes on a software adapter');
      continue;
    }
    record(records, name, deviceLabel(gpu), await choleskyRate(gpu, matrix, d), baseline);
  }
}

export async function runFoundationBenchmarks(): Promise<BenchRecord[]> {
  const devices = await openDevices();
  const baseline = new OrtBaseline();
  const records: BenchRecord[] = [];
  try {
    await matmulCases(devices, baseline, records);
    await hessianCases(devices, baseline, records);
    await choleskyCases(devices, baseline, records);
  } finally {
    await baseline.dispose();
  }
  return records;
}

/** Merges records into bench-results/runtime-gpu.json, replacing earlier foundation entries and keeping the others. */
export async function saveFoundationRecords(records: BenchRecord[]): Promise<string> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const file = path.join(root, 'bench-results', 'runtime-gpu.json');
  let existing: BenchRecord[] = [];
  try {
    existing = JSON.parse(readFileSync(file, 'utf8')) as BenchRecord[];
  } catch {
    existing = [];
  }
  const merged = [...existing.filter((entry) => !entry.case.startsWith(PREFIX)), ...records];
  await writeFileAtomic(file, `${JSON.stringify(merged, null, 2)}\n`);
  return file;
}

export function formatRecords(records: BenchRecord[]): string {
  const format = (value: number | null): string => (value === null ? '-' : value.toFixed(value < 10 ? 3 : 1));
  const header = `${'case'.padEnd(72)} ${'device'.padEnd(32)} ${'value'.padStart(10)} ${'unit'.padEnd(8)} ${'baseline'.padStart(10)} ${'ratio'.padStart(7)}`;
  const lines = records.map(
    (r) => `${r.case.padEnd(72)} ${r.device.padEnd(32)} ${format(r.value).padStart(10)} ${r.unit.padEnd(8)} ${format(r.baseline).padStart(10)} ${format(r.ratio).padStart(7)}`,
  );
  return `${header}\n${lines.join('\n')}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const records = await runFoundationBenchmarks();
  process.stdout.write(formatRecords(records));
  process.stdout.write(`wrote ${await saveFoundationRecords(records)}\n`);
  await disposeDevices();
  process.exit(0);
}
