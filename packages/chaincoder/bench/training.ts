/**
 * Training throughput of the ChainCoder miniature: full optimizer steps
 * (teacher-forced forward, backward through runtime-gpu's autograd, AdamW
 * with global-norm clipping) on fixed batches of generated stdin problems,
 * on the cpu device and on webgpu. The step is the one `Trainer.run` takes.
 *
 * Baseline, measured in the same run on the same batches and initial
 * weights: the hand-written step in baseline/ (plain loops, every matrix
 * product a direct onnxruntime-node call). Its first loss must agree with
 * ours, which checks that both compute the same step.
 *
 * Two rates per device: target tokens/s counts the decoder's predicted tokens
 * (every real target token after BOS), and positions/s counts every padded
 * position the step computes (sample embedder, description encoder, encoder
 * and decoder rows).
 *
 * Sizes: SCULPT_BENCH_TRAIN_PROBLEMS (default 120) generated problems,
 * SCULPT_BENCH_TRAIN_STEPS (default 6) timed steps on the cpu device and the
 * baseline, SCULPT_BENCH_TRAIN_WEBGPU_STEPS (default 2) on webgpu, batches of
 * SCULPT_BENCH_TRAIN_BATCH (default 8) instances × SCULPT_BENCH_TRAIN_IO
 * (default 4) I/O samples × SCULPT_BENCH_TRAIN_PROGRAMS (default 2) programs.
 * SCULPT_BENCH_DEVICES=cpu leaves webgpu out.
 *
 * Run alone: npx tsx --conditions @sculpt/source packages/chaincoder/bench/training.ts
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random, formatBenchTable, mergeBenchRecords, setLogLevel, type BenchRecord } from '@sculpt/core';
import { AdamW, disposeDevices, getCpuDevice, getDevice, recordTape, type Device } from '@sculpt/runtime-gpu';
import { ChainCoderModel, buildBatch, descriptionVectorCount, type ChainCoderConfig, type ModelBatch } from '../src/model/index.js';
import { BaselineChainCoder, type AdamSettings } from './baseline/model.js';
import { OrtProducts } from './baseline/ort-matmul.js';
import { prepareMiniatureWorkload, sizeFromEnv } from './miniature.js';

const SEED = 1;
const LEARNING_RATE = 5e-4;
const ADAM: AdamSettings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0.5 };

interface TokenCounts {
  target: number;
  positions: number;
}

function countTokens(batch: ModelBatch, descriptionVectors: number): TokenCounts {
  const { instances: I, samples: S, ioLength: T, descriptionLength: Ld, targetLength: Lt } = batch;
  const programs = batch.programInstance.length;
  const target = batch.targetLengths.reduce((sum, length) => sum + length - 1, 0);
  const positions = I * T * 2 * S + I * Ld + I * (descriptionVectors + T) + programs * (Lt - 1);
  return { target, positions };
}

interface StepTiming {
  seconds: number;
  loss: number;
}

/** Runs the warm-up batch, then times one step per batch; returns the timings of the timed steps. */
async function timeSteps(batches: readonly ModelBatch[], step: (batch: ModelBatch) => Promise<number>): Promise<StepTiming[]> {
  await step(batches[0]);
  const timings: StepTiming[] = [];
  for (const batch of batches.slice(1)) {
    const start = performance.now();
    const loss = await step(batch);
    timings.push({ seconds: (performance.now() - start) / 1000, loss });
  }
  return timings;
}

/** Times steps of ChainCoderModel on its device, taken as Trainer.run takes them. */
async function timeModel(model: ChainCoderModel, batches: readonly ModelBatch[]): Promise<StepTiming[]> {
  const optimizer = new AdamW(model.parameters().map(([, tensor]) => tensor), { lr: LEARNING_RATE, weightDecay: 0, maxGradNorm: ADAM.maxGradNorm });
  return timeSteps(batches, async (batch) => {
    const { tape, result: loss } = recordTape(() => model.loss(batch));
    tape.backward(loss);
    model.releaseBatchTensors();
    await optimizer.update(LEARNING_RATE);
    optimizer.zeroGrad();
    const value = (await loss.read())[0];
    loss.dispose();
    return value;
  });
}

function rates(config: ChainCoderConfig, batches: readonly ModelBatch[], timings: readonly StepTiming[]): { target: number; positions: number; seconds: number } {
  const seconds = timings.reduce((sum, timing) => sum + timing.seconds, 0);
  const counts = batches.slice(1, 1 + timings.length).map((batch) => countTokens(batch, descriptionVectorCount(config)));
  return {
    target: counts.reduce((sum, count) => sum + count.target, 0) / seconds,
    positions: counts.reduce((sum, count) => sum + count.positions, 0) / seconds,
    seconds,
  };
}

async function benchDevices(): Promise<Device[]> {
  const devices: Device[] = [await getDevice('cpu')];
  if (process.env.SCULPT_BENCH_DEVICES === 'cpu') return devices;
  try {
    devices.push(await getDevice('webgpu'));
  } catch (error) {
    process.stderr.write(`webgpu unavailable, benchmarking training on cpu only: ${(error as Error).message}\n`);
  }
  return devices;
}

export async function benchmarkTraining(): Promise<BenchRecord[]> {
  const sizes = {
    problems: sizeFromEnv('SCULPT_BENCH_TRAIN_PROBLEMS', 120),
    steps: sizeFromEnv('SCULPT_BENCH_TRAIN_STEPS', 6),
    webgpuSteps: sizeFromEnv('SCULPT_BENCH_TRAIN_WEBGPU_STEPS', 2),
    batch: sizeFromEnv('SCULPT_BENCH_TRAIN_BATCH', 8),
    ioSamples: sizeFromEnv('SCULPT_BENCH_TRAIN_IO', 4),
    programs: sizeFromEnv('SCULPT_BENCH_TRAIN_PROGRAMS', 2),
  };
  const workload = await prepareMiniatureWorkload(sizes.problems, SEED);
  const { config, vocabularies, problems } = workload;

  // One warm-up batch plus the timed ones, drawn in disjoint blocks of instances as the trainer draws them.
  const random = new Random(SEED);
  const order = random.shuffle(Array.from({ length: problems.length }, (_, index) => index));
  const batches = Array.from({ length: 1 + sizes.steps }, (_, step) => {
    const instances = Array.from({ length: sizes.batch }, (_, slot) => problems[order[(step * sizes.batch + slot) % order.length]]);
    return buildBatch(instances, vocabularies, config, { ioSamples: sizes.ioSamples, programs: sizes.programs }, random);
  });

  const devices = await benchDevices();
  const cpuModel = new ChainCoderModel(devices[0], config, SEED);
  const initialWeights = await Promise.all(
    cpuModel.parameters().map(async ([name, tensor]): Promise<[string, Float32Array, readonly number[]]> => [name, Float32Array.from(await tensor.read()), tensor.shape]),
  );

  // The baseline gets as many onnxruntime threads as the cpu device's own sessions.
  const products = new OrtProducts(getCpuDevice().sessions.threads);
  const baseline = new BaselineChainCoder(config, initialWeights, products);
  process.stderr.write(`training baseline: ${sizes.steps} steps\n`);
  const baselineTimings = await timeSteps(batches, (batch) => baseline.trainStep(batch, LEARNING_RATE, ADAM));
  await products.dispose();

  const records: BenchRecord[] = [];
  const details = {
    model: 'miniature',
    parameters: cpuModel.parameterCount(),
    batch: `instances ${sizes.batch}, I/O samples ${sizes.ioSamples}, programs ${sizes.programs}`,
    activations: 'f32',
    problems: problems.length,
    baselineCovers: 'the whole model: sample embedder, description encoder, encoder, decoder with cross-attention, tied output projection, cross-entropy, Adam with clipping',
  };
  for (const device of devices) {
    const model = device === devices[0] ? cpuModel : new ChainCoderModel(device, config, SEED);
    if (model !== cpuModel) model.loadWeights(new Map(initialWeights.map(([name, data]) => [name, data])));
    const steps = device.kind === 'cpu' ? sizes.steps : Math.min(sizes.webgpuSteps, sizes.steps);
    process.stderr.write(`training on ${device.kind} (${device.info.name}): ${steps} steps\n`);
    const timings = await timeModel(model, batches.slice(0, 1 + steps));
    model.dispose();

    // Both implementations took the same steps from the same weights, so their losses must agree.
    const ours = timings[0].loss;
    const theirs = baselineTimings[0].loss;
    if (Math.abs(ours - theirs) > 1e-3 * Math.abs(theirs)) {
      throw new Error(`training benchmark: the first timed loss on ${device.kind} is ${ours} but the baseline's is ${theirs}; the two steps differ`);
    }

    const measured = rates(config, batches, timings);
    const reference = rates(config, batches, baselineTimings.slice(0, timings.length));
    const common = { ...details, adapter: device.info.name, timedSteps: timings.length, seconds: measured.seconds, baselineSeconds: reference.seconds, lastLoss: timings.at(-1)!.loss };
    records.push(
      {
        case: 'training target tokens/s (miniature; baseline loops + onnxruntime matmuls)',
        device: device.kind,
        value: measured.target,
        unit: 'tokens/s',
        baseline: reference.target,
        ratio: measured.target / reference.target,
        ...common,
      },
      {
        case: 'training positions/s (miniature, padding included; baseline loops + onnxruntime matmuls)',
        device: device.kind,
        value: measured.positions,
        unit: 'positions/s',
        baseline: reference.positions,
        ratio: measured.positions / reference.positions,
        ...common,
      },
    );
  }
  return records;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  setLogLevel('warn');
  const records = await benchmarkTraining();
  await mergeBenchRecords('chaincoder', records, process.env.SCULPT_BENCH_RESULTS_ROOT);
  process.stdout.write(formatBenchTable(records));
  await disposeDevices();
}
