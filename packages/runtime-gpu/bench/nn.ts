/**
 * Benchmarks of the transformer kernels, autograd and a full training step.
 *
 * Run alone with `npx tsx --conditions=@sculpt/source bench/nn.ts`, or through
 * bench/run.ts, which calls runNnBenchmarks. Each case runs on the cpu device
 * (plain TypeScript kernels, onnxruntime-node for matmuls) and on webgpu when an
 * adapter exists. The baseline runs in the same process: an onnxruntime-node
 * graph of the same forward computation where ORT has the ops, else the cpu
 * device's plain-TS path. `ratio` is baseline time / measured time, so above 1
 * means faster than the baseline.
 *
 * Sizes: SCULPT_BENCH_SCALE (default 1) divides the sequence and row counts,
 * for quick runs. SCULPT_BENCH_NN_CASES=training,attention,norms,cross-entropy
 * selects case groups. The cross-entropy case on webgpu uses 1,024 positions, because
 * 2,048 × 32,000 f32 logits exceed the 128 MiB storage binding of lavapipe.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatBenchTable, mergeBenchRecords, Random, type BenchRecord } from '@sculpt/core';
import * as ort from 'onnxruntime-node';
import { Bench } from 'tinybench';
import {
  AdamW,
  disposeDevices,
  getDevice,
  llamaBlockConfig,
  nn,
  noGrad,
  recordTape,
  TransformerLM,
  type Device,
} from '../src/index.js';
import { GraphBuilder } from '../src/onnx/index.js';

export type { BenchRecord };

const scale = Math.max(1, Number(process.env.SCULPT_BENCH_SCALE ?? 1));
const ITERATIONS = 3;

/** Mean milliseconds of `fn` over a few iterations after one warmup run. */
async function timeMs(fn: () => Promise<void>): Promise<number> {
  const bench = new Bench({ iterations: ITERATIONS, time: 0, warmupIterations: 1, warmupTime: 0 });
  bench.add('case', fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`benchmark failed: ${JSON.stringify(result)}`);
  return result.latency.mean;
}

function randomData(size: number, seed: number, std = 1): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: size }, () => random.normal() * std);
}

async function ortSession(builder: GraphBuilder): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(builder.build(), { intraOpNumThreads: 2, interOpNumThreads: 1 });
}

// ---- attention ----

async function attentionCases(devices: Device[], records: BenchRecord[]): Promise<void> {
  const [batch, heads, headDim] = [4, 8, 64];
  const seq = Math.max(16, Math.floor(512 / scale));
  const name = `nn: attention B${batch} H${heads} S${seq} D${headDim} causal`;
  // QKᵀ and PV, each 2·S²·D per head, halved by the causal mask.
  const flops = 2 * 2 * batch * heads * seq * seq * headDim * 0.5;
  const size = batch * seq * heads * headDim;
  const [qData, kData, vData] = [randomData(size, 1), randomData(size, 2), randomData(size, 3)];

  // ORT baseline: [B, H, S, D] layout, MatMul → scale → causal mask → Softmax → MatMul.
  const builder = new GraphBuilder('attention');
  const q = builder.input('q', [batch, heads, seq, headDim]);
  const k = builder.input('k', [batch, heads, seq, headDim]);
  const v = builder.input('v', [batch, heads, seq, headDim]);
  const mask = new Float32Array(seq * seq);
  for (let i = 0; i < seq; i++) for (let j = i + 1; j < seq; j++) mask[i * seq + j] = -1e9;
  const [kt] = builder.node('Transpose', [k], { perm: [0, 1, 3, 2] });
  const [scores] = builder.node('MatMul', [q, kt]);
  const [scaled] = builder.node('Mul', [scores, builder.constant('scale', [], [1 / Math.sqrt(headDim)])]);
  const [masked] = builder.node('Add', [scaled, builder.constant('mask', [seq, seq], mask)]);
  const [probs] = builder.node('Softmax', [masked], { axis: -1 });
  builder.node('MatMul', [probs, v], {}, ['out']);
  builder.output('out');
  const session = await ortSession(builder);
  const feeds = {
    q: new ort.Tensor('float32', qData, [batch, heads, seq, headDim]),
    k: new ort.Tensor('float32', kData, [batch, heads, seq, headDim]),
    v: new ort.Tensor('float32', vData, [batch, heads, seq, headDim]),
  };
  const ortMs = await timeMs(async () => {
    await session.run(feeds);
  });
  await session.release();
  records.push({ case: `${name} forward`, device: 'onnxruntime-cpu', value: ortMs, unit: 'ms', baseline: null, ratio: null });

  let cpuBackwardMs: number | null = null;
  for (const device of devices) {
    const options = { batch, heads, kvHeads: heads, headDim, causal: true };
    const shape = [batch * seq, heads * headDim];
    const tensors = [qData, kData, vData].map((data) => device.tensor(data, shape));
    const forwardMs = await timeMs(async () => {
      const out = noGrad(() => nn.attention(tensors[0], tensors[1], tensors[2], options));
      await device.sync();
      out.dispose();
    });
    records.push({ case: `${name} forward`, device: device.kind, value: forwardMs, unit: 'ms', baseline: ortMs, ratio: ortMs / forwardMs });
    records.push({ case: `${name} forward`, device: device.kind, value: flops / forwardMs / 1e6, unit: 'GFLOP/s', baseline: flops / ortMs / 1e6, ratio: ortMs / forwardMs });

    for (const tensor of tensors) tensor.requiresGrad = true;
    const gradOut = device.tensor(randomData(size, 4), shape);
    const trainMs = await timeMs(async () => {
      const { tape, result } = recordTape(() => nn.attention(tensors[0], tensors[1], tensors[2], options));
      const seed = nn.affine(gradOut, 1);
      tape.backward(result, seed);
      result.dispose();
      await device.sync();
      for (const tensor of tensors) {
        tensor.grad?.dispose();
        tensor.grad = null;
      }
    });
    if (device.kind === 'cpu') cpuBackwardMs = trainMs;
    const baseline = device.kind === 'cpu' ? null : cpuBackwardMs;
    records.push({
      case: `${name} forward+backward`,
      device: device.kind,
      value: trainMs,
      unit: 'ms',
      baseline,
      ratio: baseline === null ? null : baseline / trainMs,
    });
    gradOut.dispose();
    for (const tensor of tensors) tensor.dispose();
  }
}

// ---- norms ----

async function normCases(devices: Device[], records: BenchRecord[]): Promise<void> {
  const rows = Math.max(64, Math.floor(4096 / scale));
  const dim = 4096;
  const data = randomData(rows * dim, 5);
  const weightData = randomData(dim, 6, 0.1).map((value) => value + 1);

  for (const kind of ['rms', 'layer'] as const) {
    const name = `nn: ${kind === 'rms' ? 'RMSNorm' : 'LayerNorm'} ${rows}x${dim}`;
    const builder = new GraphBuilder(`${kind}-norm`);
    const x = builder.input('x', [rows, dim]);
    const weight = builder.constant('weight', [dim], weightData);
    if (kind === 'layer') {
      builder.node('LayerNormalization', [x, weight, builder.constant('bias', [dim], new Float32Array(dim))], { axis: -1, epsilon: { float: 1e-5 } }, ['y']);
    } else {
      // RMSNorm has no ONNX op before opset 23, so the baseline composes it.
      const [squared] = builder.node('Mul', [x, x]);
      const [mean] = builder.node('ReduceMean', [squared], { axes: [-1], keepdims: 1 });
      const [shifted] = builder.node('Add', [mean, builder.constant('eps', [], [1e-5])]);
      const [root] = builder.node('Sqrt', [shifted]);
      const [normalized] = builder.node('Div', [x, root]);
      builder.node('Mul', [normalized, weight], {}, ['y']);
    }
    builder.output('y');
    const session = await ortSession(builder);
    const feeds = { x: new ort.Tensor('float32', data, [rows, dim]) };
    const ortMs = await timeMs(async () => {
      await session.run(feeds);
    });
    await session.release();
    records.push({ case: `${name} forward`, device: 'onnxruntime-cpu', value: ortMs, unit: 'ms', baseline: null, ratio: null });

    let cpuMs: number | null = null;
    for (const device of devices) {
      const xTensor = device.tensor(data, [rows, dim]);
      const weightTensor = device.tensor(weightData, [dim]);
      const bias = device.zeros([dim]);
      xTensor.requiresGrad = true;
      weightTensor.requiresGrad = true;
      const gradOut = device.tensor(randomData(rows * dim, 7), [rows, dim]);
      const forward = () => (kind === 'rms' ? nn.rmsNorm(xTensor, weightTensor, 1e-5) : nn.layerNorm(xTensor, weightTensor, bias, 1e-5));

      const forwardMs = await timeMs(async () => {
        const y = noGrad(forward);
        await device.sync();
        y.dispose();
      });
      records.push({ case: `${name} forward`, device: device.kind, value: forwardMs, unit: 'ms', baseline: ortMs, ratio: ortMs / forwardMs });

      const trainMs = await timeMs(async () => {
        const { tape, result } = recordTape(forward);
        tape.backward(result, nn.affine(gradOut, 1));
        result.dispose();
        await device.sync();
        for (const tensor of [xTensor, weightTensor]) {
          tensor.grad?.dispose();
          tensor.grad = null;
        }
      });
      if (device.kind === 'cpu') cpuMs = trainMs;
      const baseline = device.kind === 'cpu' ? null : cpuMs;
      records.push({ case: `${name} forward+backward`, device: device.kind, value: trainMs, unit: 'ms', baseline, ratio: baseline === null ? null : baseline / trainMs });
      for (const tensor of [xTensor, weightTensor, bias, gradOut]) tensor.dispose();
    }
  }
}

// ---- cross-entropy ----

async function crossEntropyCases(devices: Device[], records: BenchRecord[]): Promise<void> {
  const vocab = 32000;
  for (const device of [null, ...devices]) {
    // lavapipe caps one storage binding at 128 MiB; 1,024 × 32,000 f32 logits fit, 2,048 do not.
    const fullRows = Math.max(64, Math.floor(2048 / scale));
    const rows = device !== null && device.kind === 'webgpu' && device.limits.maxStorageBufferBindingSize < fullRows * vocab * 4 ? Math.floor(fullRows / 2) : fullRows;
    const name = `nn: cross-entropy ${rows}x${vocab}`;
    const logits = randomData(rows * vocab, 8, 2);
    const targets = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % vocab);

    if (device === null) {
      for (const count of new Set([fullRows, Math.floor(fullRows / 2)])) {
        const builder = new GraphBuilder('cross-entropy');
        const input = builder.input('logits', [count, vocab]);
        const labels = builder.input('targets', [count], 7 /* INT64 */);
        builder.node('SoftmaxCrossEntropyLoss', [input, labels], { reduction: 'mean', ignore_index: -100 }, ['loss']);
        builder.output('loss');
        const session = await ortSession(builder);
        const feeds = {
          logits: new ort.Tensor('float32', logits.subarray(0, count * vocab), [count, vocab]),
          targets: new ort.Tensor('int64', BigInt64Array.from(Array.from(targets.subarray(0, count), BigInt)), [count]),
        };
        const ortMs = await timeMs(async () => {
          await session.run(feeds);
        });
        await session.release();
        records.push({ case: `nn: cross-entropy ${count}x${vocab} forward`, device: 'onnxruntime-cpu', value: ortMs, unit: 'ms', baseline: null, ratio: null });
      }
      continue;
    }

    const baseline = records.find((record) => record.case === `${name} forward` && record.device === 'onnxruntime-cpu')?.value ?? null;
    const logitsTensor = device.tensor(logits, [rows, vocab]);
    logitsTensor.requiresGrad = true;
    const targetTensor = device.tensor(targets, [rows], 'i32');
    const forwardMs = await timeMs(async () => {
      const loss = noGrad(() => nn.crossEntropy(logitsTensor, targetTensor));
      await loss.read();
      loss.dispose();
    });
    records.push({ case: `${name} forward`, device: device.kind, value: forwardMs, unit: 'ms', baseline, ratio: baseline === null ? null : baseline / forwardMs });
    const trainMs = await timeMs(async () => {
      const { tape, result } = recordTape(() => nn.crossEntropy(logitsTensor, targetTensor));
      tape.backward(result);
      result.dispose();
      await device.sync();
      logitsTensor.grad?.dispose();
      logitsTensor.grad = null;
    });
    records.push({ case: `${name} forward+backward`, device: device.kind, value: trainMs, unit: 'ms', baseline: null, ratio: null });
    logitsTensor.dispose();
    targetTensor.dispose();
  }
}

// ---- training step ----

async function trainingCases(devices: Device[], records: BenchRecord[]): Promise<void> {
  const [layers, dim, heads, vocab, batch] = [4, 256, 8, 4096, 4];
  const seq = Math.max(16, Math.floor(128 / scale));
  const name = `nn: training step ${layers}-layer d=${dim} vocab=${vocab} B${batch} S${seq}`;
  let cpuMs: number | null = null;

  for (const device of devices) {
    const config = llamaBlockConfig({ dim, heads, hiddenDim: 4 * dim });
    const model = new TransformerLM(device, { vocab, layers, block: config, maxSeqLen: seq, tiedEmbeddings: true }, new Random(1));
    const optimizer = new AdamW(
      model.parameters().map(([, tensor]) => tensor),
      { lr: 1e-3, maxGradNorm: 1 },
    );
    const random = new Random(2);
    const tokens = Int32Array.from({ length: batch * (seq + 1) }, () => random.int(0, vocab - 1));
    const ids = device.tensor(Int32Array.from({ length: batch * seq }, (_, i) => tokens[Math.floor(i / seq) * (seq + 1) + (i % seq)]), [batch * seq], 'i32');
    const targets = device.tensor(Int32Array.from({ length: batch * seq }, (_, i) => tokens[Math.floor(i / seq) * (seq + 1) + (i % seq) + 1]), [batch * seq], 'i32');
    const positions = device.tensor(Int32Array.from({ length: batch * seq }, (_, i) => i % seq), [batch * seq], 'i32');

    let peakRss = 0;
    const rssAfterStep: number[] = [];
    const step = async () => {
      const { tape, result: loss } = recordTape(() => model.loss(ids, positions, targets, { batch }));
      tape.backward(loss);
      await optimizer.update();
      optimizer.zeroGrad();
      await loss.read();
      loss.dispose();
      const rss = process.memoryUsage().rss;
      peakRss = Math.max(peakRss, rss);
      rssAfterStep.push(rss);
    };
    const stepMs = await timeMs(step);
    if (device.kind === 'cpu') cpuMs = stepMs;
    const baseline = device.kind === 'cpu' ? null : cpuMs;
    records.push({ case: name, device: device.kind, value: stepMs, unit: 'ms', baseline, ratio: baseline === null ? null : baseline / stepMs });
    records.push({ case: `${name} peak RSS`, device: device.kind, value: peakRss / 2 ** 20, unit: 'MiB', baseline: null, ratio: null });
    // RSS growth from the second step to the last: near zero when the tape frees activations after backward.
    records.push({
      case: `${name} RSS growth over ${rssAfterStep.length - 1} steps`,
      device: device.kind,
      value: (rssAfterStep[rssAfterStep.length - 1] - rssAfterStep[1]) / 2 ** 20,
      unit: 'MiB',
      baseline: null,
      ratio: null,
    });
    optimizer.dispose();
    model.dispose();
    for (const tensor of [ids, targets, positions]) tensor.dispose();
  }
}

async function benchDevices(): Promise<Device[]> {
  const devices: Device[] = [await getDevice('cpu')];
  if (process.env.SCULPT_BENCH_DEVICES === 'cpu') return devices;
  try {
    devices.push(await getDevice('webgpu'));
  } catch (error) {
    process.stderr.write(`webgpu unavailable, benchmarking cpu only: ${(error as Error).message}\n`);
  }
  return devices;
}

export async function runNnBenchmarks(): Promise<BenchRecord[]> {
  const devices = await benchDevices();
  const records: BenchRecord[] = [];
  // The training step runs first, so its peak RSS is not inflated by the large buffers of the other cases.
  const groups: [string, (devices: Device[], records: BenchRecord[]) => Promise<void>][] = [
    ['training', trainingCases],
    ['attention', attentionCases],
    ['norms', normCases],
    ['cross-entropy', crossEntropyCases],
  ];
  const only = process.env.SCULPT_BENCH_NN_CASES?.split(',').map((name) => name.trim());
  for (const [name, run] of groups) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`nn bench: ${name} on ${devices.map((device) => device.kind).join(', ')}\n`);
    await run(devices, records);
  }
  return records;
}

/** Merges records into bench-results/runtime-gpu.json, replacing entries of the same case and device. */
export async function saveNnRecords(records: BenchRecord[]): Promise<string> {
  return mergeBenchRecords('runtime-gpu', records, path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const records = await runNnBenchmarks();
  process.stdout.write(formatBenchTable(records));
  const file = await saveNnRecords(records);
  process.stdout.write(`wrote ${file}\n`);
  await disposeDevices();
  process.exit(0);
}

