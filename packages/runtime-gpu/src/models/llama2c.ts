/**
 * llama2.c checkpoints (the legacy format of `run.c`). A header of 7 int32
 * contains dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size and
 * seq_len, where a negative vocab_size means an untied classifier follows the
 * weights. Float32 tensors follow, grouped by kind across layers: token_embedding, rms_att,
 * wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_cis_real,
 * freq_cis_imag, and the classifier when untied. RoPE pairs are interleaved
 * and θ is fixed at 10000; the norm epsilon of run.c is 1e-5.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { InputError, UsageError, writeFileAtomic } from '@sculpt/core';
import type { ModelConfig } from './config.js';
import { CausalLM, warnNonFinite, type ModelSource, type SaveOptions } from './model.js';
import { halfToInterleaved } from './rope-layout.js';
import { checkOverwrite } from './save-guard.js';
import type { BlockWeights } from './weights.js';

const HEADER_BYTES = 28;

interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  shared: boolean;
}

/** Offsets (in floats from the end of the header) of each tensor kind. */
interface Llama2cLayout {
  embedding: number;
  rmsAtt: number;
  wq: number;
  wk: number;
  wv: number;
  wo: number;
  rmsFfn: number;
  w1: number;
  w2: number;
  w3: number;
  rmsFinal: number;
  freqCis: number;
  classifier: number;
  totalFloats: number;
}

const hostIsLittleEndian = endianness() === 'LE';

/** Views little-endian float32 bytes as a Float32Array, copying only when the host or the alignment requires it. */
function littleEndianFloats(bytes: Buffer, count: number): Float32Array {
  if (hostIsLittleEndian && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

function layoutOf(h: Llama2cHeader): Llama2cLayout {
  const headSize = h.dim / h.nHeads;
  const kvDim = h.nKvHeads * headSize;
  let offset = 0;
  const take = (count: number): number => {
    const start = offset;
    offset += count;
    return start;
  };
  const layout = {
    embedding: take(h.vocabSize * h.dim),
    rmsAtt: take(h.nLayers * h.dim),
    wq: take(h.nLayers * h.dim * h.dim),
    wk: take(h.nLayers * kvDim * h.dim),
    wv: take(h.nLayers * kvDim * h.dim),
    wo: take(h.nLayers * h.dim * h.dim),
    rmsFfn: take(h.nLayers * h.dim),
    w1: take(h.nLayers * h.hiddenDim * h.dim),
    w2: take(h.nLayers * h.dim * h.hiddenDim),
    w3: take(h.nLayers * h.hiddenDim * h.dim),
    rmsFinal: take(h.dim),
    freqCis: take(h.seqLen * headSize),
    classifier: 0,
    totalFloats: 0,
  };
  layout.classifier = take(h.shared ? 0 : h.vocabSize * h.dim);
  layout.totalFloats = offset;
  return layout;
}

function parseHeader(bytes: Buffer, file: string): Llama2cHeader {
  const fields = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'];
  const values = fields.map((_, i) => bytes.readInt32LE(i * 4));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, signedVocab, seqLen] = values;
  for (let i = 0; i < fields.length; i++) {
    const value = i === 5 ? Math.abs(values[i]) : values[i];
    if (value <= 0) {
      throw new InputError(`invalid llama2.c header: ${fields[i]} = ${values[i]} must be positive; the file is corrupted or not a llama2.c checkpoint`, file);
    }
  }
  if (dim % nHeads !== 0 || (dim / nHeads) % 2 !== 0) {
    throw new InputError(`invalid llama2.c header: dim ${dim} must split into ${nHeads} heads of even size`, file);
  }
  if (nKvHeads > nHeads || nHeads % nKvHeads !== 0) {
    throw new InputError(`invalid llama2.c header: n_heads ${nHeads} must be a multiple of n_kv_heads ${nKvHeads}`, file);
  }
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(signedVocab), seqLen, shared: signedVocab > 0 };
}

function configOf(h: Llama2cHeader): ModelConfig {
  return {
    family: 'llama',
    architecture: 'llama2.c',
    dim: h.dim,
    hiddenDim: h.hiddenDim,
    nLayers: h.nLayers,
    nHeads: h.nHeads,
    nKvHeads: h.nKvHeads,
    headDim: h.dim / h.nHeads,
    vocabSize: h.vocabSize,
    maxSeqLen: h.seqLen,
    normEps: 1e-5,
    activation: 'silu',
    tiedEmbeddings: h.shared,
    ropeTheta: 10000,
    ropeLayout: 'interleaved',
    positionOffset: 0,
  };
}

class Llama2cSource implements ModelSource {
  readonly format = 'llama2c' as const;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly header: Llama2cHeader,
    private readonly layout: Llama2cLayout,
  ) {}

  async readFloats(offset: number, count: number): Promise<Float32Array> {
    const bytes = Buffer.alloc(count * 4);
    const { bytesRead } = await this.handle.read(bytes, 0, bytes.length, HEADER_BYTES + offset * 4);
    if (bytesRead !== bytes.length) throw new InputError(`read ${bytesRead} of ${bytes.length} bytes at float ${offset}; the file changed or is truncated`, this.path);
    return littleEndianFloats(bytes, count);
  }

  async loadBlock(index: number): Promise<BlockWeights> {
    const { dim, hiddenDim, nKvHeads, nHeads } = this.header;
    const kvDim = (nKvHeads * dim) / nHeads;
    const L = this.layout;
    const linear = async (offset: number, out: number, inFeatures: number) => ({
      outFeatures: out,
      inFeatures,
      weight: await this.readFloats(offset + index * out * inFeatures, out * inFeatures),
    });
    return {
      linears: new Map([
        ['self_attn.q_proj', await linear(L.wq, dim, dim)],
        ['self_attn.k_proj', await linear(L.wk, kvDim, dim)],
        ['self_attn.v_proj', await linear(L.wv, kvDim, dim)],
        ['self_attn.o_proj', await linear(L.wo, dim, dim)],
        ['mlp.gate_proj', await linear(L.w1, hiddenDim, dim)],
        ['mlp.up_proj', await linear(L.w3, hiddenDim, dim)],
        ['mlp.down_proj', await linear(L.w2, dim, hiddenDim)],
      ]),
      norms: new Map([
        ['input_layernorm', { weight: await this.readFloats(L.rmsAtt + index * dim, dim) }],
        ['post_attention_layernorm', { weight: await this.readFloats(L.rmsFfn + index * dim, dim) }],
      ]),
    };
  }

  async save(model: CausalLM, outPath: string, options: SaveOptions): Promise<void> {
    await saveLlama2c(model, outPath, options);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Opens a llama2.c checkpoint; block weights are read on demand. */
export async function loadLlama2c(path: string): Promise<CausalLM> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new InputError(`cannot read llama2.c checkpoint: ${(error as Error).message}`, path, { cause: error });
  }
  if (size < HEADER_BYTES) throw new InputError(`invalid llama2.c checkpoint: ${size} bytes is shorter than the 28-byte header`, path);

  const handle = await open(path, 'r');
  try {
    const headerBytes = Buffer.alloc(HEADER_BYTES);
    await handle.read(headerBytes, 0, HEADER_BYTES, 0);
    const header = parseHeader(headerBytes, path);
    const layout = layoutOf(header);
    const expected = HEADER_BYTES + layout.totalFloats * 4;
    if (size !== expected) {
      const cause = size < expected ? 'the file is truncated or the header overstates the sizes' : 'the header understates the sizes or the file is not a legacy llama2.c checkpoint';
      throw new InputError(
        `invalid llama2.c checkpoint: the header (dim ${header.dim}, hidden_dim ${header.hiddenDim}, n_layers ${header.nLayers}, vocab_size ${header.vocabSize}, seq_len ${header.seqLen}) implies ${expected} bytes but the file has ${size}; ${cause}`,
        path,
      );
    }

    const source = new Llama2cSource(path, handle, header, layout);
    const embedding = await source.readFloats(layout.embedding, header.vocabSize * header.dim);
    const finalNorm = { weight: await source.readFloats(layout.rmsFinal, header.dim) };
    const head = header.shared ? embedding : await source.readFloats(layout.classifier, header.vocabSize * header.dim);
    warnNonFinite(
      [
        ['token_embedding_table', embedding],
        ['rms_final_weight', finalNorm.weight],
        ['wcls', header.shared ? undefined : head],
      ],
      'the top-level weights',
      path,
    );
    return new CausalLM(configOf(header), { embedding, finalNorm, head }, source);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Checks that a model fits the llama2.c format, which stores only the plain Llama block. */
function checkLlama2cCompatible(config: ModelConfig, blocks: BlockWeights[]): void {
  const problems: string[] = [];
  if (config.family !== 'llama') problems.push(`family ${config.family} is not Llama-style`);
  if (config.ropeTheta !== 10000) problems.push(`rope_theta ${config.ropeTheta} is not 10000`);
  if (config.ropeScaling !== undefined) problems.push(`rope_scaling ${config.ropeScaling.type} is not supported`);
  if (config.slidingWindow !== undefined) problems.push('sliding-window attention is not supported');
  if (config.headDim * config.nHeads !== config.dim) problems.push(`head_dim ${config.headDim} × n_heads ${config.nHeads} differs from dim ${config.dim}`);
  if (Math.abs(config.normEps - 1e-5) > 1e-9) problems.push(`norm epsilon ${config.normEps} is not 1e-5`);
  if (blocks.some((block) => [...block.linears.values()].some((layer) => layer.bias !== undefined))) problems.push('linear layers have biases');
  if (problems.length > 0) {
    throw new UsageError(`cannot write a llama2.c checkpoint: ${problems.join('; ')}; convert to hf or onnx instead`);
  }
}

/** Writes any Llama-family model as a legacy llama2.c checkpoint, atomically. */
export async function saveLlama2c(model: CausalLM, outPath: string, options: SaveOptions = {}): Promise<void> {
  await checkOverwrite(model, outPath, options);
  const { config, top } = model;
  const blocks = await model.loadAll();
  checkLlama2cCompatible(config, blocks);

  const header = Buffer.alloc(HEADER_BYTES);
  const shared = config.tiedEmbeddings && top.head === top.embedding;
  const values = [config.dim, config.hiddenDim, config.nLayers, config.nHeads, config.nKvHeads, shared ? config.vocabSize : -config.vocabSize, config.maxSeqLen];
  values.forEach((value, i) => header.writeInt32LE(value, i * 4));

  const toInterleaved = (name: string, heads: number) => (block: BlockWeights) => {
    const weight = block.linears.get(name)!.weight;
    return config.ropeLayout === 'half' ? halfToInterleaved(weight, heads, config.headDim, config.dim) : weight;
  };
  const perBlock = (pick: (block: BlockWeights) => Float32Array) => blocks.map(pick);
  const linear = (name: string) => (block: BlockWeights) => block.linears.get(name)!.weight;
  const norm = (name: string) => (block: BlockWeights) => block.norms.get(name)!.weight;

  const chunks: Float32Array[] = [
    top.embedding,
    ...perBlock(norm('input_layernorm')),
    ...perBlock(toInterleaved('self_attn.q_proj', config.nHeads)),
    ...perBlock(toInterleaved('self_attn.k_proj', config.nKvHeads)),
    ...perBlock(linear('self_attn.v_proj')),
    ...perBlock(linear('self_attn.o_proj')),
    ...perBlock(norm('post_attention_layernorm')),
    ...perBlock(linear('mlp.gate_proj')),
    ...perBlock(linear('mlp.down_proj')),
    ...perBlock(linear('mlp.up_proj')),
    top.finalNorm.weight,
    ...ropeTables(config.maxSeqLen, config.headDim),
    ...(shared ? [] : [top.head]),
  ];

  const encoded = chunks.map((chunk) => {
    const bytes = Buffer.alloc(chunk.length * 4);
    for (let i = 0; i < chunk.length; i++) bytes.writeFloatLE(chunk[i], i * 4);
    return bytes;
  });
  await writeFileAtomic(outPath, [header, ...encoded]);
}

/** freq_cis_real and freq_cis_imag [seqLen, headDim/2] as export.py writes them (unused by run.c). */
function ropeTables(seqLen: number, headDim: number): Float32Array[] {
  const half = headDim / 2;
  const real = new Float32Array(seqLen * half);
  const imag = new Float32Array(seqLen * half);
  for (let position = 0; position < seqLen; position++) {
    for (let i = 0; i < half; i++) {
      const angle = position / 10000 ** ((2 * i) / headDim);
      real[position * half + i] = Math.cos(angle);
      imag[position * half + i] = Math.sin(angle);
    }
  }
  return [real, imag];
}
