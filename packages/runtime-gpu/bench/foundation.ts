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
 * are printed. Software-adapter matmul records also carry
 * `eagerPollingGflops`: the same product timed with Dawn's unpaced event
 * polling. Run alone with `npx tsx --conditions=@sculpt/source bench/foundation.ts`.
 *
 * SCULPT_BENCH_FILTER=text runs only the cases whose name contains `text`
 * (for example `matmul 1024²` or `cholesky`).
 *
 * Load: the benchmark hosts are shared, so each record also carries
 * `gflopPerCpuSecond` (flops over the process CPU time of the fastest call;
 * process.cpuUsage() counts onnxruntime's and lavapipe's worker threads,
 * which run inside this process), the 1-minute load average, and
 * `idleEstimate` = gflopPerCpuSecond × available cores: an estimate of the
 * rate on an idle host that assumes the work spreads over every core. The
 * cpu-device matmul and its ORT baseline are timed in alternation, so that
 * both see the same load.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatBenchTable, mergeBenchRecords, Random, type BenchRecord } from '@sculpt/core';
import * as ort from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { cholesky, disposeDevices, getDevice, HessianAccumulator, matmul, probeWebGpuAdapter, setEventPacing, type Device, type Tensor } from '../src/index.js';
import { GraphBuilder } from '../src/onnx/index.js';

const PREFIX = 'foundation: ';
const filter = process.env.SCULPT_BENCH_FILTER;

function selected(name: string): boolean {
  return filter === undefined || filter === '' || name.includes(filter);
}
const scale = Math.max(1, Number(process.env.SCULPT_BENCH_SCALE ?? 1));
const HESSIAN_TOKENS = 8192;
const HESSIAN_CHUNK = 2048;

function dim(value: number): number {
  return Math.max(4, Math.round(value / scale / 4) * 4);
}

/** Fastest wall-clock milliseconds and fastest process CPU seconds per call. */
interface Timing {
  ms: number;
  cpuSeconds: number;
}

/**
 * Times `iterations` calls after one warm-up call (which also compiles
 * shaders or sessions). The minimum rather than the mean, because the
 * benchmark hosts are shared and other processes only ever add time.
 */
async function timeCall(fn: () => Promise<void>, iterations: number): Promise<Timing> {
  let cpuSeconds = Infinity;
  let warm = false;
  const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
  bench.add('case', async () => {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    if (warm) cpuSeconds = Math.min(cpuSeconds, (used.user + used.system) / 1e6);
    warm = true;
  });
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`benchmark failed: ${JSON.stringify(result)}`);
  return { ms: result.latency.min, cpuSeconds };
}

async function timeMs(fn: () => Promise<void>, iterations: number): Promise<number> {
  return (await timeCall(fn, iterations)).ms;
}

/** Times two calls in alternation, `rounds` times each after a warm-up of both, keeping each one's fastest. */
async function timeInterleaved(first: () => Promise<void>, second: () => Promise<void>, rounds: number): Promise<[Timing, Timing]> {
  await first();
  await second();
  const best: [Timing, Timing] = [{ ms: Infinity, cpuSeconds: Infinity }, { ms: Infinity, cpuSeconds: Infinity }];
  for (let round = 0; round < rounds; round++) {
    for (const [index, fn] of [first, second].entries()) {
      const start = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      const ms = performance.now() - t0;
      const used = process.cpuUsage(start);
      best[index] = { ms: Math.min(best[index].ms, ms), cpuSeconds: Math.min(best[index].cpuSeconds, (used.user + used.system) / 1e6) };
    }
  }
  return best;
}

function gflops(flops: number, ms: number): number {
  return flops / (ms / 1000) / 1e9;
}

/** Load details attached to a record: see the file header. */
function loadDetails(flops: number, timing: Timing): Record<string, number> {
  const perCpuSecond = flops / timing.cpuSeconds / 1e9;
  return {
    gflopPerCpuSecond: Number(perCpuSecond.toFixed(2)),
    loadAverage: Number(os.loadavg()[0].toFixed(2)),
    idleEstimate: Number((perCpuSecond * os.availableParallelism()).toFixed(2)),
  };
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
    const flops = 2 * m * k * n;
    return gflops(flops, await timeMs(await this.matmulCall(m, k, n, a, b), iterationsFor(flops)));
  }

  /** Returns one call of A·B through an ORT MatMul session. */
  async matmulCall(m: number, k: number, n: number, a: Float32Array, b: Float32Array): Promise<() => Promise<void>> {
    const session = await this.#session('matmul', () => {
      const graph = new GraphBuilder('matmul');
      graph.input('A', ['m', 'k']);
      graph.input('B', ['k', 'n']);
      graph.node('MatMul', ['A', 'B'], {}, ['Y']);
      graph.output('Y');
      return graph.build();
    });
    const feeds = { A: new ort.Tensor('float32', a, [m, k]), B: new ort.Tensor('float32', b, [k, n]) };
    return async () => void (await session.run(feeds));
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

/** Returns one call of A·B on `device` (waiting for the result) and a release of its inputs. */
function matmulCall(device: Device, m: number, k: number, n: number, a: Float32Array, b: Float32Array): { call: () => Promise<void>; release: () => void } {
  const ta = device.tensor(a, [m, k]);
  const tb = device.tensor(b, [k, n]);
  const call = async (): Promise<void> => {
    const c = matmul(ta, tb);
    await device.sync();
    c.dispose();
  };
  return { call, release: () => { ta.dispose(); tb.dispose(); } };
}

async function matmulTiming(device: Device, m: number, k: number, n: number, a: Float32Array, b: Float32Array): Promise<Timing> {
  const { call, release } = matmulCall(device, m, k, n, a, b);
  const timing = await timeCall(call, iterationsFor(2 * m * k * n));
  release();
  return timing;
}

function record(records: BenchRecord[], name: string, device: string, value: number, baseline: number | null, details: Record<string, number> = {}): void {
  records.push({ case: `${PREFIX}${name}`, device, value, unit: 'GFLOP/s', baseline, ratio: baseline === null ? null : value / baseline, ...details });
}

async function matmulCases(devices: Devices, ort: OrtBaseline, records: BenchRecord[]): Promise<void> {
  const shapes: { name: string; m: number; k: number; n: number; gpuRows?: number; gpuSkip?: boolean }[] = [
    ...[256, 512, 1024, 2048].map((size) => ({ name: `matmul ${dim(size)}²`, m: dim(size), k: dim(size), n: dim(size), gpuSkip: size >= 2048 })),
    { name: 'matmul 512×4096·4096×4096 (attention projection)', m: dim(512), k: dim(4096), n: dim(4096), gpuRows: dim(64) },
    { name: 'matmul 512×4096·4096×11008 (MLP up projection)', m: dim(512), k: dim(4096), n: dim(11008), gpuRows: dim(64) },
  ];
  for (const shape of shapes) {
    if (!selected(shape.name)) continue;
    const a = randomData(shape.m * shape.k, 1);
    const b = randomData(shape.k * shape.n, 2);
    const flops = 2 * shape.m * shape.k * shape.n;
    const ortCall = await ort.matmulCall(shape.m, shape.k, shape.n, a, b);
    const cpuCall = matmulCall(devices.cpu, shape.m, shape.k, shape.n, a, b);
    const [ortTiming, cpuTiming] = await timeInterleaved(ortCall, cpuCall.call, iterationsFor(flops) + 1);
    cpuCall.release();
    const baseline = gflops(flops, ortTiming.ms);
    record(records, shape.name, 'onnxruntime-cpu', baseline, null, loadDetails(flops, ortTiming));
    record(records, shape.name, 'cpu', gflops(flops, cpuTiming.ms), baseline, loadDetails(flops, cpuTiming));

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
    const gpuFlops = 2 * rows * shape.k * shape.n;
    const gpuTiming = await matmulTiming(gpu, rows, shape.k, shape.n, gpuA, b);
    const details = loadDetails(gpuFlops, gpuTiming);
    if (software) {
      // The same product with Dawn's eager poll loop, which competes with lavapipe's threads for the cores (see event-pacing.ts).
      setEventPacing(false);
      try {
        details.eagerPollingGflops = Number(gflops(gpuFlops, (await matmulTiming(gpu, rows, shape.k, shape.n, gpuA, b)).ms).toFixed(2));
      } finally {
        setEventPacing(true);
      }
    }
    record(records, name, deviceLabel(gpu), gflops(gpuFlops, gpuTiming.ms), gpuBaseline, details);
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
    if (!selected(name)) continue;
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

async function choleskyTiming(device: Device, matrix: Float32Array, d: number): Promise<Timing> {
  const a = device.tensor(matrix, [d, d]);
  const flops = d ** 3 / 3;
  const timing = await timeCall(async () => {
    const l: Tensor = await cholesky(a);
    l.dispose();
  }, flops > 1e10 ? 1 : 3);
  a.dispose();
  return timing;
}

async function choleskyCases(devices: Devices, ort: OrtBaseline, records: BenchRecord[]): Promise<void> {
  for (const size of [1024, 4096]) {
    const d = dim(size);
    const name = `cholesky d=${d} (d³/3 flops; baseline: ORT MatMul at d)`;
    if (!selected(name)) continue;
    const matrix = spdMatrix(d);
    const baseline = await ort.matmul(d, d, d, matrix, matrix);
    record(records, name, 'onnxruntime-cpu MatMul', baseline, null);
    const flops = d ** 3 / 3;
    const cpuTiming = await choleskyTiming(devices.cpu, matrix, d);
    record(records, name, 'cpu (f64)', gflops(flops, cpuTiming.ms), baseline, loadDetails(flops, cpuTiming));
    const gpu = devices.gpu;
    if (gpu === null) continue;
    if (gpu.info.isFallbackAdapter && size >= 4096) {
      skip(name, gpu, 'several minutes on a software adapter');
      continue;
    }
    const gpuTiming = await choleskyTiming(gpu, matrix, d);
    record(records, name, deviceLabel(gpu), gflops(flops, gpuTiming.ms), baseline, loadDetails(flops, gpuTiming));
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const records = await runFoundationBenchmarks();
  process.stdout.write(formatBenchTable(records));
  process.stdout.write(`wrote ${await mergeBenchRecords('runtime-gpu', records)}\n`);
  await disposeDevices();
  process.exit(0);
}
