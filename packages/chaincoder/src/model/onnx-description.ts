/**
 * A pretrained text encoder for problem descriptions, supplied by the user as
 * an ONNX file (for example BERT or DistilBERT exported from transformers)
 * plus its Hugging Face `tokenizer.json`. The encoder runs in onnxruntime-node
 * and stays frozen: it returns features, and the ChainCoder model learns only
 * a linear projection of them to its width.
 *
 * The session's input and output names are read from its metadata. It must
 * take `input_ids` and `attention_mask` (int64 or int32, [batch, tokens]),
 * may take `token_type_ids` (fed zeros), and must return
 * `last_hidden_state` [batch, tokens, hidden] or a single rank-3 output.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { InputError, getLogger, type Random } from '@sculpt/core';
import { ParameterStore, nn as F, type Device, type Tensor } from '@sculpt/runtime-gpu';
import * as ort from 'onnxruntime-node';
import type { DescriptionPooling } from './config.js';

const log = getLogger('chaincoder:onnx-description');

/** Returns the pooled vectors per description: 3 for first/last/mean, 4 for first/last/max/min. */
export function pooledVectorCount(pooling: DescriptionPooling): number {
  return pooling === 'first-last-mean' ? 3 : 4;
}

export interface OnnxDescriptionEncoderOptions {
  /** The ONNX text encoder. */
  model: string;
  /** Its Hugging Face `tokenizer.json`; a `tokenizer_config.json` beside it is read when present. */
  tokenizer: string;
  /** Tokens kept per description, special tokens included (512 for BERT). */
  maxLength?: number;
  /** onnxruntime intra-op threads. */
  threads?: number;
}

/** Hidden states of a batch of descriptions. */
export interface DescriptionFeatures {
  batch: number;
  /** Padded token count per description. */
  length: number;
  hidden: number;
  /** [batch, length, hidden]; rows past a description's length are padding. */
  states: Float32Array;
  /** Real tokens per description, special tokens included. */
  lengths: number[];
}

/** The identity of an encoder, recorded in checkpoints so that resuming can reject other files. */
export interface OnnxDescriptionIdentity {
  model: string;
  modelSha256: string;
  tokenizer: string;
  tokenizerSha256: string;
  hidden: number;
}

type IdType = 'int64' | 'int32';

interface InputNames {
  inputIds: string;
  attentionMask: string;
  tokenTypeIds: string | null;
  idType: IdType;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readInput(path: string, description: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InputError(`cannot read the ${description}: ${(error as Error).message}`, path, { cause: error });
  }
}

function tensorMetadata(list: readonly ort.InferenceSession.ValueMetadata[], name: string): { type: string; shape: readonly (number | string)[] } | null {
  const entry = list.find((item) => item.name === name);
  if (entry === undefined || !entry.isTensor) return null;
  return { type: entry.type, shape: entry.shape };
}

/** Matches the session's inputs to input_ids / attention_mask / token_type_ids, or explains what does not fit. */
function matchInputs(session: ort.InferenceSession, file: string): InputNames {
  const names = session.inputNames;
  const describe = (): string => session.inputMetadata.map((item) => (item.isTensor ? `${item.name} (${item.type} [${item.shape.join(', ')}])` : item.name)).join(', ');
  const inputIds = names.find((name) => name === 'input_ids');
  const attentionMask = names.find((name) => name === 'attention_mask');
  if (inputIds === undefined || attentionMask === undefined) {
    throw new InputError(
      `the ONNX description encoder must take inputs named input_ids and attention_mask, but its inputs are ${describe()}; export the encoder with those input names (transformers' ONNX export uses them).`,
      file,
    );
  }
  const tokenTypeIds = names.find((name) => name === 'token_type_ids') ?? null;
  const unknown = names.filter((name) => name !== inputIds && name !== attentionMask && name !== tokenTypeIds);
  if (unknown.length > 0) {
    throw new InputError(`the ONNX description encoder has inputs this project cannot fill: ${JSON.stringify(unknown)} (inputs: ${describe()}); only input_ids, attention_mask and token_type_ids are supported.`, file);
  }

  const types = [inputIds, attentionMask, ...(tokenTypeIds === null ? [] : [tokenTypeIds])].map((name) => {
    const metadata = tensorMetadata(session.inputMetadata, name);
    if (metadata === null || (metadata.type !== 'int64' && metadata.type !== 'int32') || metadata.shape.length !== 2) {
      throw new InputError(`the ONNX description encoder input ${name} must be an int64 (or int32) tensor [batch, tokens]; the file declares ${describe()}.`, file);
    }
    return metadata.type as IdType;
  });
  if (new Set(types).size > 1) throw new InputError(`the ONNX description encoder inputs mix int32 and int64 (${describe()}); this project feeds one id type.`, file);
  return { inputIds, attentionMask, tokenTypeIds, idType: types[0] };
}

/** Picks `last_hidden_state`, or the only rank-3 output. */
function matchOutput(session: ort.InferenceSession, file: string): { name: string; hidden: number | null } {
  const rankThree = session.outputMetadata.filter((item) => item.isTensor && item.shape.length === 3);
  const named = session.outputMetadata.find((item) => item.name === 'last_hidden_state');
  const chosen = named ?? (rankThree.length === 1 ? rankThree[0] : undefined);
  if (chosen === undefined || !chosen.isTensor || chosen.shape.length !== 3 || chosen.type !== 'float32') {
    const outputs = session.outputMetadata.map((item) => (item.isTensor ? `${item.name} (${item.type} [${item.shape.join(', ')}])` : item.name)).join(', ');
    throw new InputError(
      `the ONNX description encoder must return last_hidden_state as a float32 tensor [batch, tokens, hidden], but its outputs are ${outputs}; export the encoder's last hidden state under that name.`,
      file,
    );
  }
  const hidden = chosen.shape[2];
  return { name: chosen.name, hidden: typeof hidden === 'number' && hidden > 0 ? hidden : null };
}

export class OnnxDescriptionEncoder {
  readonly #session: ort.InferenceSession;
  readonly #tokenizer: Tokenizer;
  readonly #inputs: InputNames;
  readonly #output: string;
  #hidden: number | null;

  private constructor(
    session: ort.InferenceSession,
    tokenizer: Tokenizer,
    inputs: InputNames,
    output: { name: string; hidden: number | null },
    readonly maxLength: number,
    readonly identity: Omit<OnnxDescriptionIdentity, 'hidden'>,
  ) {
    this.#session = session;
    this.#tokenizer = tokenizer;
    this.#inputs = inputs;
    this.#output = output.name;
    this.#hidden = output.hidden;
  }

  /** Loads the encoder and its tokenizer, checking that the session's inputs and output fit. */
  static async load(options: OnnxDescriptionEncoderOptions): Promise<OnnxDescriptionEncoder> {
    const modelPath = resolve(options.model);
    const tokenizerPath = resolve(options.tokenizer);
    const maxLength = options.maxLength ?? 512;
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new InputError(`maxLength must be a positive integer, got ${maxLength}.`, modelPath);

    const modelBytes = await readInput(modelPath, 'ONNX description encoder');
    const tokenizerBytes = await readInput(tokenizerPath, 'description tokenizer');
    const tokenizer = await createTokenizer(tokenizerBytes, tokenizerPath);

    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelBytes, { intraOpNumThreads: options.threads ?? 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new InputError(`onnxruntime cannot load the description encoder: ${(error as Error).message}`, modelPath, { cause: error });
    }
    try {
      const inputs = matchInputs(session, modelPath);
      const output = matchOutput(session, modelPath);
      const identity = { model: modelPath, modelSha256: sha256(modelBytes), tokenizer: tokenizerPath, tokenizerSha256: sha256(tokenizerBytes) };
      log.info(() => `Loaded the ONNX description encoder ${modelPath} (inputs ${session.inputNames.join(', ')}, output ${output.name})`);
      return new OnnxDescriptionEncoder(session, tokenizer, inputs, output, maxLength, identity);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /** Width of the hidden states; known after the first `encode` when the file leaves it symbolic. */
  get hidden(): number | null {
    return this.#hidden;
  }

  /** Returns the hidden size, running the encoder once on a short text when the file does not declare it. */
  async hiddenSize(): Promise<number> {
    if (this.#hidden === null) await this.encode(['a']);
    return this.#hidden!;
  }

  async describe(): Promise<OnnxDescriptionIdentity> {
    return { ...this.identity, hidden: await this.hiddenSize() };
  }

  /**
   * Tokenizes with the file's post-processor (e.g. [CLS] … [SEP]) and cuts
   * each description to `maxLength` tokens. As transformers truncates, the
   * text's tokens are cut and the template's leading and trailing special
   * tokens are kept.
   */
  tokenize(text: string): number[] {
    const full: number[] = this.#tokenizer.encode(text, { add_special_tokens: true }).ids;
    if (full.length === 0) throw new InputError(`the description tokenizer produced no tokens for ${JSON.stringify(text.slice(0, 40))}.`, this.identity.tokenizer);
    if (full.length <= this.maxLength) return full;

    const plain: number[] = this.#tokenizer.encode(text, { add_special_tokens: false }).ids;
    const leading = full.findIndex((_, start) => plain.every((id, offset) => full[start + offset] === id));
    const trailing = full.length - leading - plain.length;
    if (plain.length === 0 || leading < 0 || trailing < 0 || leading + trailing >= this.maxLength) return full.slice(0, this.maxLength);
    return [...full.slice(0, leading), ...plain.slice(0, this.maxLength - leading - trailing), ...full.slice(full.length - trailing)];
  }

  /** Runs the encoder on a batch of descriptions padded to the longest. */
  async encode(texts: readonly string[]): Promise<DescriptionFeatures> {
    if (texts.length === 0) throw new InputError('encode: no descriptions were given.', this.identity.model);
    const tokenized = texts.map((text) => this.tokenize(text));
    const batch = tokenized.length;
    const length = Math.max(...tokenized.map((ids) => ids.length));

    const ids = new Array<number>(batch * length).fill(0);
    const mask = new Array<number>(batch * length).fill(0);
    tokenized.forEach((row, b) => {
      row.forEach((id, t) => {
        ids[b * length + t] = id;
        mask[b * length + t] = 1;
      });
    });
    const tensor = (values: number[]): ort.Tensor =>
      this.#inputs.idType === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), [batch, length])
        : new ort.Tensor('int32', Int32Array.from(values), [batch, length]);
    const feeds: Record<string, ort.Tensor> = { [this.#inputs.inputIds]: tensor(ids), [this.#inputs.attentionMask]: tensor(mask) };
    if (this.#inputs.tokenTypeIds !== null) feeds[this.#inputs.tokenTypeIds] = tensor(new Array<number>(batch * length).fill(0));

    let output: ort.Tensor;
    try {
      output = (await this.#session.run(feeds))[this.#output];
    } catch (error) {
      throw new InputError(`the ONNX description encoder failed on a batch of ${batch} × ${length} tokens: ${(error as Error).message}`, this.identity.model, { cause: error });
    }
    const [outBatch, outLength, hidden] = output.dims;
    if (output.dims.length !== 3 || outBatch !== batch || outLength !== length) {
      throw new InputError(`the ONNX description encoder returned ${this.#output} of shape [${output.dims.join(', ')}] for input [${batch}, ${length}]; expected [${batch}, ${length}, hidden].`, this.identity.model);
    }
    if (this.#hidden !== null && hidden !== this.#hidden) {
      throw new InputError(`the ONNX description encoder returned hidden size ${hidden} after ${this.#hidden} before.`, this.identity.model);
    }
    this.#hidden = hidden;
    return { batch, length, hidden, states: output.data as Float32Array, lengths: tokenized.map((row) => row.length) };
  }

  /** Encodes and pools each description over its real tokens: [batch, vectors, hidden] (see `poolDescriptionFeatures`). */
  async encodePooled(texts: readonly string[], pooling: DescriptionPooling): Promise<Float32Array> {
    return poolDescriptionFeatures(await this.encode(texts), pooling);
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/**
 * Pools hidden states over each description's real tokens to
 * [batch, vectors, hidden]: the first and last rows, then the mean, or the
 * element-wise max and min. The reference pools BERT's output the same way
 * before its glue layer, and the encoder is frozen, so pooling happens once
 * here and only the projection after it is trained.
 */
export function poolDescriptionFeatures(features: DescriptionFeatures, pooling: DescriptionPooling): Float32Array {
  const { batch, length, hidden, states, lengths } = features;
  const vectors = pooledVectorCount(pooling);
  const pooled = new Float32Array(batch * vectors * hidden);
  for (let b = 0; b < batch; b++) {
    const row = (t: number): number => (b * length + t) * hidden;
    const out = b * vectors * hidden;
    pooled.set(states.subarray(row(0), row(0) + hidden), out);
    pooled.set(states.subarray(row(lengths[b] - 1), row(lengths[b] - 1) + hidden), out + hidden);

    if (pooling === 'first-last-mean') {
      const sum = new Float64Array(hidden);
      for (let t = 0; t < lengths[b]; t++) for (let h = 0; h < hidden; h++) sum[h] += states[row(t) + h];
      for (let h = 0; h < hidden; h++) pooled[out + 2 * hidden + h] = sum[h] / lengths[b];
      continue;
    }
    for (let h = 0; h < hidden; h++) {
      let max = -Infinity;
      let min = Infinity;
      for (let t = 0; t < lengths[b]; t++) {
        max = Math.max(max, states[row(t) + h]);
        min = Math.min(min, states[row(t) + h]);
      }
      pooled[out + 2 * hidden + h] = max;
      pooled[out + 3 * hidden + h] = min;
    }
  }
  return pooled;
}

/**
 * The trainable linear map from pooled encoder features to the model's
 * width, in place of the reference's glue MLP from BERT's 1024 to 768.
 * Parameters are `weight` [dim, hidden] and `bias` [dim].
 */
export class DescriptionProjection {
  readonly params: ParameterStore;

  constructor(
    readonly device: Device,
    readonly hidden: number,
    readonly dim: number,
    random: Random,
  ) {
    this.params = new ParameterStore(device);
    this.params.create('weight', [dim, hidden], { std: 1 / Math.sqrt(hidden), random });
    this.params.create('bias', [dim], { value: 0 });
  }

  /**
   * Projects pooled features [instances, vectors, hidden] (from
   * `encodePooled`) to one [instances, dim] tensor per vector. The features
   * are a constant input, so gradients reach only the projection. `constant`
   * creates the input tensor (and tracks it for release).
   */
  forward(pooled: Float32Array, instances: number, vectors: number, constant: (values: Float32Array, shape: number[]) => Tensor): Tensor[] {
    if (pooled.length !== instances * vectors * this.hidden) {
      throw new InputError(`DescriptionProjection: ${pooled.length} feature values do not form [${instances}, ${vectors}, ${this.hidden}].`);
    }
    return Array.from({ length: vectors }, (_, k) => {
      const rows = new Float32Array(instances * this.hidden);
      for (let i = 0; i < instances; i++) {
        const start = (i * vectors + k) * this.hidden;
        rows.set(pooled.subarray(start, start + this.hidden), i * this.hidden);
      }
      return F.linear(constant(rows, [instances, this.hidden]), this.params.get('weight'), this.params.get('bias'));
    });
  }

  parameters(): [string, Tensor][] {
    return this.params.entries();
  }

  dispose(): void {
    this.params.dispose();
  }
}

async function createTokenizer(bytes: Buffer, path: string): Promise<Tokenizer> {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InputError(`the description tokenizer is not valid JSON: ${(error as Error).message}`, path, { cause: error });
  }
  if (typeof json !== 'object' || json === null || !('model' in json)) {
    throw new InputError('the description tokenizer has no "model" section; pass the Hugging Face tokenizer.json that belongs to the ONNX encoder.', path);
  }
  const configPath = join(dirname(path), 'tokenizer_config.json');
  let config: unknown = {};
  if (existsSync(configPath)) {
    try {
      config = JSON.parse(await readFile(configPath, 'utf8'));
    } catch (error) {
      throw new InputError(`tokenizer_config.json beside the description tokenizer is not valid JSON: ${(error as Error).message}`, configPath, { cause: error });
    }
  }
  try {
    return new Tokenizer(json, config as object);
  } catch (error) {
    throw new InputError(`@huggingface/tokenizers cannot build the description tokenizer: ${(error as Error).message}`, path, { cause: error });
  }
}
