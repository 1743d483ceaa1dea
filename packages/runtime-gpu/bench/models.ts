/**
 * Benchmarks of the model runner on a Llama-shaped model with random weights.
 * By default it has dim 768, 12 layers, 12 heads, MLP 2048 and vocab 32,000
 * (about 110M parameters) at sequence length 512. The cpu path runs attention
 * and norms in plain TypeScript and large matrix products in onnxruntime-node's Gemm.
 *
 * Baseline in the same run: the same model exported to ONNX and run whole by
 * onnxruntime-node. Cases:
 * - `models.forward`: tokens per second of one full forward pass (ratio = runtime / onnxruntime, above 1 is faster);
 * - `models.calibration`: seconds for the block-by-block calibration pass
 *   (capture, a statistics pass with hooks on every linear input, a re-run per
 *   block) against onnxruntime fetching every linear input as an extra graph
 *   output in one run per sample (ratio = baseline seconds / runtime seconds);
 * - `models.peak_rss`: peak resident memory of the process in MiB.
 *
 * Run alone with `npx tsx bench/models.ts`, or through bench/run.ts, which
 * calls runModelBenchmarks. SCULPT_BENCH_MODEL_LAYERS, _SEQLEN and _SAMPLES
 * shrink the run. WebGPU is not measured: the model runner computes on the CPU.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatBenchTable, mergeBenchRecords, Random, writeFileAtomic, type BenchRecord } from '@sculpt/core';
import * as ort from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { BlockRunner, CausalLM, exportOnnx, type BlockWeights, type ModelConfig, type ModelSource } from '../src/index.js';
import { decodeModel, encodeModel } from '../src/onnx/schema.js';

export type { BenchRecord };

const layers = Number(process.env.SCULPT_BENCH_MODEL_LAYERS ?? 12);
const seqLen = Number(process.env.SCULPT_BENCH_MODEL_SEQLEN ?? 512);
const samples = Number(process.env.SCULPT_BENCH_MODEL_SAMPLES ?? 4);

const config: ModelConfig = {
  family: 'llama',
  architecture: 'LlamaForCausalLM',
  dim: 768,
  hiddenDim: 2048,
  nLayers: layers,
  nHeads: 12,
  nKvHeads: 12,
  headDim: 64,
  vocabSize: 32000,
  maxSeqLen: Math.max(seqLen, 512),
  normEps: 1e-5,
  activation: 'silu',
  tiedEmbeddings: false,
  ropeTheta: 10000,
  ropeLayout: 'half',
  positionOffset: 0,
};

function randomArray(random: Random, size: number, std: number, mean = 0): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = mean + std * random.normal();
  return out;
}

/** Random weights generated per block on request, like a file read lazily. */
class RandomSource implements ModelSource {
  readonly format = 'hf' as const;
  readonly path = '(random weights)';

  async loadBlock(index: number): Promise<BlockWeights> {
    const random = new Random(1000 + index);
    const { dim, hiddenDim } = config;
    const linear = (out: number, inFeatures: number) => ({ outFeatures: out, inFeatures, weight: randomArray(random, out * inFeatures, 0.02) });
    return {
      linears: new Map([
        ['self_attn.q_proj', linear(dim, dim)],
        ['self_attn.k_proj', linear(dim, dim)],
        ['self_attn.v_proj', linear(dim, dim)],
        ['self_attn.o_proj', linear(dim, dim)],
        ['mlp.gate_proj', linear(hiddenDim, dim)],
        ['mlp.up_proj', linear(hiddenDim, dim)],
        ['mlp.down_proj', linear(dim, hiddenDim)],
      ]),
      norms: new Map([
        ['input_layernorm', { weight: randomArray(random, dim, 0.05, 1) }],
        ['post_attention_layernorm', { weight: randomArray(random, dim, 0.05, 1) }],
      ]),
    };
  }

  async save(): Promise<void> {
    throw new Error('the benchmark model is not saved');
  }
}

function createModel(): CausalLM {
  const random = new Random(7);
  const embedding = randomArray(random, config.vocabSize * config.dim, 0.02);
  return new CausalLM(
    config,
    { embedding, finalNorm: { weight: randomArray(random, config.dim, 0.05, 1) }, head: randomArray(random, config.vocabSize * config.dim, 0.02) },
    new RandomSource(),
  );
}

async function timeMs(iterations: number, fn: () => Promise<void>): Promise<number> {
  const bench = new Bench({ iterations, time: 0, warmupIterations: 0, warmupTime: 0 });
  bench.add('case', fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`benchmark failed: ${JSON.stringify(result)}`);
  return result.latency.mean;
}

function tokensOf(seed: number): number[] {
  const random = new Random(seed);
  return Array.from({ length: seqLen }, () => random.int(0, config.vocabSize - 1));
}

const idsTensor = (tokens: number[]) => new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, tokens.length]);

/** Sums x² per input column of every linear layer, the Wanda statistic, so hooks do real work. */
function columnSquares(): { hook: (name: string, input: Float32Array, rows: number) => void } {
  const sums = new Map<string, Float64Array>();
  return {
    hook: (name, input, rows) => {
      const cols = input.length / rows;
      let sum = sums.get(name);
      if (sum === undefined) sums.set(name, (sum = new Float64Array(cols)));
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sum[c] += input[r * cols + c] ** 2;
    },
  };
}

export async function runModelBenchmarks(): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const model = createModel();
  await model.loadAll();
  const folder = await mkdtemp(path.join(tmpdir(), 'sculpt-bench-models-'));
  try {
    const onnxPath = path.join(folder, 'model.onnx');
    await exportOnnx(model, onnxPath);
    const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, graphOptimizationLevel: 'all' };

    // Forward throughput.
    const tokens = tokensOf(1);
    const session = await ort.InferenceSession.create(onnxPath, sessionOptions);
    const ortMs = await timeMs(3, async () => {
      const result = await session.run({ input_ids: idsTensor(tokens) });
      for (const tensor of Object.values(result)) tensor.dispose();
    });
    await session.release();
    const runtimeMs = await timeMs(3, async () => {
      await model.forward(tokens);
    });
    const runtimeRate = seqLen / (runtimeMs / 1000);
    const ortRate = seqLen / (ortMs / 1000);
    records.push({ case: `models.forward L${layers} T${seqLen}`, device: 'cpu', value: runtimeRate, unit: 'tokens/s', baseline: ortRate, ratio: runtimeRate / ortRate });

    // Block-by-block calibration pass against onnxruntime with every linear input as a graph output.
    const batch = Array.from({ length: samples }, (_, s) => ({ tokens: tokensOf(10 + s) }));
    const runner = new BlockRunner(model);
    const calibrationMs = await timeMs(1, async () => {
      const statistics = columnSquares();
      let inputs = await runner.captureInputs(batch);
      for (let i = 0; i < layers; i++) {
        await runner.forwardBlock(i, inputs, { onLinearInput: (name, x, rows) => statistics.hook(`${i}.${name}`, x, rows) });
        inputs = await runner.forwardBlock(i, inputs);
      }
    });

    const proto = decodeModel(await readFile(onnxPath));
    const linearInputs = proto.graph!.node!.filter((node) => node.op_type === 'MatMul' && /layers\.\d+\/(self_attn|mlp)\/\w+_proj\/MatMul$/.test(node.name ?? '')).map((node) => node.input![0]);
    const unique = [...new Set(linearInputs)];
    proto.graph!.output!.push(...unique.map((name) => ({ name })));
    const fetchPath = path.join(folder, 'model-fetch.onnx');
    await writeFileAtomic(fetchPath, encodeModel(proto));
    const fetchSession = await ort.InferenceSession.create(fetchPath, { ...sessionOptions, graphOptimizationLevel: 'basic' });
    const ortCalibrationMs = await timeMs(1, async () => {
      const statistics = columnSquares();
      for (const sample of batch) {
        const result = await fetchSession.run({ input_ids: idsTensor(sample.tokens) }, unique);
        for (const name of unique) statistics.hook(name, result[name].data as Float32Array, seqLen);
        for (const tensor of Object.values(result)) tensor.dispose();
      }
    });
    await fetchSession.release();
    records.push({
      case: `models.calibration L${layers} ${samples}x${seqLen}`,
      device: 'cpu',
      value: calibrationMs / 1000,
      unit: 's',
      baseline: ortCalibrationMs / 1000,
      ratio: ortCalibrationMs / calibrationMs,
    });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }

  // maxRSS is reported in KiB on Linux.
  records.push({ case: 'models.peak_rss', device: 'cpu', value: process.resourceUsage().maxRSS / 1024, unit: 'MiB', baseline: null, ratio: null });
  return records;
}

/** Merges records into `<repo root>/bench-results/models.json`, replacing entries of the same case and device. */
export async function saveModelRecords(records: BenchRecord[]): Promise<string> {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const file = await mergeBenchRecords('models', records, repoRoot);
  return file;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const records = await runModelBenchmarks();
  const file = await saveModelRecords(records);
  process.stdout.write(`${formatBenchTable(records)}written to ${file}\n`);
}
