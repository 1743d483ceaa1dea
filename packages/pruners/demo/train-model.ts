/**
 * Regenerates the demo model (`demo/model/demo-llama.bin` + `tok-demo.bin`):
 * a 3-block Llama (dim 48, GQA 4/2 heads, SwiGLU 128) trained with sculpt's
 * own autograd and AdamW kernels on the generated demo data, saved in the
 * llama2.c format. Run with `npm run demo:train -w @sculpt/pruners`; about
 * DEMO_TRAIN_STEPS (default 450) steps of 3 × 192 tokens on the CPU device.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLogger, Random, setLogLevel } from '@sculpt/core';
import { Llama2cTokenizer } from '@sculpt/datasets';
import { AdamW, getCpuDevice, llamaBlockConfig, recordTape, TransformerLM } from '@sculpt/runtime-gpu';
import { trainBpe, writeLlama2cTokenizer } from './bpe.js';
import { generateDemoData } from './synthetic-data.js';
import { trainingDocuments } from './training-text.js';

const log = getLogger('demo:train');
const demoDir = path.dirname(fileURLToPath(import.meta.url));
const modelDir = path.join(demoDir, 'model');

const DIM = 48;
const LAYERS = 3;
const HEADS = 4;
const KV_HEADS = 2;
const HIDDEN = 128;
const SEQ_LEN = 256;
const VOCAB = 512;
const CONTEXT = 192;
const BATCH = 3;

/** Writes the llama2.c legacy layout: 7 int32 header fields, then the float32 tensors in run.c's order. */
async function saveLlama2c(file: string, model: TransformerLM): Promise<void> {
  const named = new Map<string, Float32Array>();
  for (const [name, tensor] of model.parameters()) named.set(name, Float32Array.from(await tensor.read()));
  const get = (name: string) => {
    const value = named.get(name);
    if (value === undefined) throw new Error(`the trained model has no parameter ${name}`);
    return value;
  };
  const perLayer = (suffix: string) => Array.from({ length: LAYERS }, (_, i) => get(`blocks.${i}.${suffix}`));

  const headSize = DIM / HEADS;
  const parts: Float32Array[] = [
    get('embed.weight'),
    ...perLayer('attn_norm.weight'),
    ...perLayer('attn.q.weight'),
    ...perLayer('attn.k.weight'),
    ...perLayer('attn.v.weight'),
    ...perLayer('attn.o.weight'),
    ...perLayer('mlp_norm.weight'),
    ...perLayer('mlp.gate.weight'),
    ...perLayer('mlp.down.weight'),
    ...perLayer('mlp.up.weight'),
    get('final_norm.weight'),
    new Float32Array(SEQ_LEN * (headSize / 2)),
    new Float32Array(SEQ_LEN * (headSize / 2)),
  ];
  // In run.c a positive vocabulary size means the head shares the embedding.
  const header = Buffer.from(Int32Array.from([DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ_LEN]).buffer);
  await writeFile(file, Buffer.concat([header, ...parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength))]));
}

async function main(): Promise<void> {
  setLogLevel('info');
  const steps = Number(process.env.DEMO_TRAIN_STEPS ?? 450);
  const scratch = await mkdtemp(path.join(tmpdir(), 'sculpt-demo-train-'));
  try {
    await generateDemoData(scratch);
    const documents = await trainingDocuments(scratch);
    const corpus = documents.join('\n\n');
    log.info(`training text: ${documents.length} documents, ${corpus.length} characters`);

    await mkdir(modelDir, { recursive: true });
    const tokenizerFile = path.join(modelDir, 'tok-demo.bin');
    const vocab = await writeLlama2cTokenizer(tokenizerFile, trainBpe(corpus, VOCAB));
    if (vocab !== VOCAB) throw new Error(`the tokenizer has ${vocab} tokens, expected ${VOCAB}`);
    const tokenizer = Llama2cTokenizer.fromBytes(await readFile(tokenizerFile), tokenizerFile);
    const stream = documents.flatMap((document) => tokenizer.encode(document, { bos: true }));
    log.info(`training stream: ${stream.length} tokens`);

    const device = getCpuDevice();
    const random = new Random(7);
    const config = llamaBlockConfig({ dim: DIM, heads: HEADS, kvHeads: KV_HEADS, hiddenDim: HIDDEN, ropeLayout: 'interleaved' });
    const model = new TransformerLM(device, { vocab: VOCAB, layers: LAYERS, block: config, maxSeqLen: SEQ_LEN, tiedEmbeddings: true }, random);
    const optimizer = new AdamW(model.parameters().map(([, tensor]) => tensor), { lr: 3e-3, weightDecay: 0.01, maxGradNorm: 1 });

    const positions = Array.from({ length: BATCH * CONTEXT }, (_, i) => i % CONTEXT);
    const positionTensor = device.tensor(positions, [BATCH * CONTEXT], 'i32');
    const started = performance.now();
    for (let step = 0; step < steps; step++) {
      const ids: number[] = [];
      const targets: number[] = [];
      for (let b = 0; b < BATCH; b++) {
        const start = random.int(0, stream.length - CONTEXT - 2);
        ids.push(...stream.slice(start, start + CONTEXT));
        targets.push(...stream.slice(start + 1, start + CONTEXT + 1));
      }
      // Cosine decay from 3e-3 to 3e-4 after 50 warm-up steps.
      const progress = step / steps;
      const lr = step < 50 ? (3e-3 * (step + 1)) / 50 : 3e-4 + 0.5 * (3e-3 - 3e-4) * (1 + Math.cos(Math.PI * progress));
      const idTensor = device.tensor(ids, [ids.length], 'i32');
      const targetTensor = device.tensor(targets, [targets.length], 'i32');
      const { tape, result: loss } = recordTape(() => model.loss(idTensor, positionTensor, targetTensor, { batch: BATCH }));
      tape.backward(loss);
      await optimizer.update(lr);
      optimizer.zeroGrad();
      if (step % 50 === 0 || step === steps - 1) {
        const value = (await loss.read())[0];
        log.info(`step ${step}/${steps}: loss ${value.toFixed(4)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
      loss.dispose();
      idTensor.dispose();
      targetTensor.dispose();
    }

    await saveLlama2c(path.join(modelDir, 'demo-llama.bin'), model);
    log.info(`saved ${path.join(modelDir, 'demo-llama.bin')}`);
    optimizer.dispose();
    model.dispose();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
