/**
 * The ChainCoder model on runtime-gpu's kernels and autograd:
 *
 * 1. Sample embedder: every (instance, aligned I/O position, syntax-or-content
 *    channel) is a sequence over the instance's samples. An encoder stack
 *    attends across the samples, the output at sample 0 is kept, and the
 *    syntax and content channels are summed: [I·T, d].
 * 2. Description encoder: a small trainable encoder over subword ids, pooled
 *    to first, last, max and min vectors (first, last and mean for configs
 *    saved without `descriptionPooling`), each plus a learned marker embedding.
 *    With `descriptionEncoder` in the config, a frozen ONNX encoder's pooled
 *    features arrive in the batch instead, and a trainable linear projection
 *    maps them to the model width before the markers are added.
 * 3. Encoder: the pooled description vectors are prepended to the I/O
 *    embeddings, learned positions added, and an encoder stack runs: [I·M, d].
 * 4. Decoder: causal self-attention over the target, cross-attention over the
 *    encoder output of the program's instance, and an output projection tied
 *    to the target embedding.
 *
 * Rows are gathered with the embedding op (which is differentiable in its
 * table) and concatenated through constant 0/1 selection matrices, so every
 * step runs on the same kernels on the cpu and webgpu devices.
 *
 * With f16 activations (webgpu with `shader-f16`), the transformer stacks run
 * on f16 activations and f16 copies of the f32 weights. Embeddings, pooling,
 * the concatenations and the output projection stay in f32.
 */
import { InputError, Random, UsageError } from '@sculpt/core';
import {
  IGNORE_INDEX,
  ParameterStore,
  createCrossDecoderBlock,
  createEncoderBlock,
  gptBlockConfig,
  keep,
  nn as F,
  reduceMax,
  reduceMin,
  scope,
  type BlockConfig,
  type BlockContext,
  type Device,
  type Tensor,
  type TransformerBlock,
} from '@sculpt/runtime-gpu';
import { checkBatch, type ModelBatch } from './batch.js';
import { checkConfig, descriptionPoolingOf, descriptionVectorCount, type ChainCoderConfig } from './config.js';
import { DescriptionProjection } from './onnx-description.js';

/**
 * Pooled description vectors of the `first-last-mean` pooling. Models with
 * another pooling prepend `ChainCoderModel.descriptionVectors` vectors.
 */
export const DESCRIPTION_VECTORS = 3;

/** Storage type of the activations inside the transformer stacks. */
export type ActivationDType = 'f32' | 'f16';

/** Offset added to padding rows before max/min pooling, so that a real row always wins. */
const PADDING_OFFSET = 1e30;

function blockConfig(config: ChainCoderConfig): BlockConfig {
  return gptBlockConfig({
    dim: config.dim,
    heads: config.heads,
    hiddenDim: config.hiddenDim,
    normEps: config.normEps,
    activation: 'relu',
    preNorm: config.preNorm,
  });
}

/** Builds a [rows, columns] 0/1 matrix with a one at (row, column) for each pair. */
function selectionData(rows: number, columns: number, ones: Iterable<[number, number]>): Float32Array {
  const data = new Float32Array(rows * columns);
  for (const [row, column] of ones) data[row * columns + column] = 1;
  return data;
}

export class ChainCoderModel {
  readonly params: ParameterStore;
  readonly sampleBlocks: TransformerBlock[];
  readonly descriptionBlocks: TransformerBlock[];
  readonly encoderBlocks: TransformerBlock[];
  readonly decoderBlocks: TransformerBlock[];
  /** Pooled description vectors before the I/O rows of every encoder sequence. */
  readonly descriptionVectors: number;
  /** Projection of frozen ONNX features; null for the trainable description stack. */
  readonly descriptionProjection: DescriptionProjection | null;
  #activationDType: ActivationDType = 'f32';

  constructor(
    readonly device: Device,
    readonly config: ChainCoderConfig,
    seed: number,
  ) {
    checkConfig(config);
    this.descriptionVectors = descriptionVectorCount(config);
    const random = new Random(seed);
    const { dim } = config;
    this.params = new ParameterStore(device);
    const normal = (std: number) => ({ std, random });
    // The trainable description stack exists only without a frozen encoder.
    // Its creation order is unchanged, so older configs draw the same initial weights.
    const trainableDescription = config.descriptionEncoder === undefined;
    this.params.create('input_embed.weight', [config.inputVocab, dim], normal(0.02));
    this.params.create('sample_position.weight', [config.maxSamples, dim], normal(0.01));
    if (trainableDescription) {
      this.params.create('description_embed.weight', [config.descriptionVocab, dim], normal(0.02));
      this.params.create('description_position.weight', [config.maxDescriptionLength, dim], normal(0.01));
    }
    this.params.create('description_marker.weight', [this.descriptionVectors, dim], normal(0.02));
    this.params.create('encoder_position.weight', [this.descriptionVectors + config.maxIoLength, dim], normal(0.01));
    this.params.create('output_embed.weight', [config.outputVocab, dim], normal(0.02));
    this.params.create('decoder_position.weight', [config.maxTargetLength, dim], normal(0.01));
    const norms = trainableDescription ? ['sample_norm', 'description_norm', 'encoder_norm', 'decoder_norm'] : ['sample_norm', 'encoder_norm', 'decoder_norm'];
    for (const name of norms) {
      this.params.create(`${name}.weight`, [dim], { value: 1 });
      this.params.create(`${name}.bias`, [dim], { value: 0 });
    }

    const block = blockConfig(config);
    const options = { random };
    const stack = (count: number, create: typeof createEncoderBlock) => Array.from({ length: count }, () => create(device, block, options));
    this.sampleBlocks = stack(config.sampleEmbedderLayers, createEncoderBlock);
    this.descriptionBlocks = stack(trainableDescription ? config.descriptionLayers : 0, createEncoderBlock);
    this.encoderBlocks = stack(config.encoderLayers, createEncoderBlock);
    this.decoderBlocks = stack(config.decoderLayers, createCrossDecoderBlock);
    this.descriptionProjection = config.descriptionEncoder === undefined ? null : new DescriptionProjection(device, config.descriptionEncoder.hidden, dim, random);
  }

  get activationDType(): ActivationDType {
    return this.#activationDType;
  }

  /**
   * Sets the storage type of the stacks' activations. f16 needs a webgpu
   * device with the `shader-f16` feature; the weights stay f32 either way.
   */
  setActivationDType(dtype: ActivationDType): void {
    if (dtype === 'f16') checkF16Activations(this.device);
    this.#activationDType = dtype;
  }

  /** Lists every parameter with a unique dotted name, in a fixed order that checkpoints rely on. */
  parameters(): [string, Tensor][] {
    const nested = (prefix: string, blocks: TransformerBlock[]): [string, Tensor][] =>
      blocks.flatMap((block, index) => block.parameters().map(([name, tensor]): [string, Tensor] => [`${prefix}.${index}.${name}`, tensor]));
    return [
      ...this.params.entries(),
      ...nested('sample_blocks', this.sampleBlocks),
      ...nested('description_blocks', this.descriptionBlocks),
      ...nested('encoder_blocks', this.encoderBlocks),
      ...nested('decoder_blocks', this.decoderBlocks),
      ...(this.descriptionProjection?.parameters() ?? []).map(([name, tensor]): [string, Tensor] => [`description_projection.${name}`, tensor]),
    ];
  }

  /**
   * Replaces every parameter with the values in `weights` (by the names of
   * `parameters()`). Call it before an optimizer is built over the parameters,
   * because the replaced tensors are disposed.
   */
  loadWeights(weights: ReadonlyMap<string, Float32Array>, file?: string): void {
    const stores: [string, ParameterStore][] = [
      ['', this.params],
      ...(['sample_blocks', 'description_blocks', 'encoder_blocks', 'decoder_blocks'] as const).flatMap((prefix) =>
        this.#blocksOf(prefix).map((block, index): [string, ParameterStore] => [`${prefix}.${index}.`, block.params]),
      ),
      ...(this.descriptionProjection === null ? [] : [['description_projection.', this.descriptionProjection.params] as [string, ParameterStore]]),
    ];
    const expected = new Set(this.parameters().map(([name]) => name));
    const unknown = [...weights.keys()].filter((name) => !expected.has(name));
    const missing = [...expected].filter((name) => !weights.has(name));
    if (unknown.length > 0 || missing.length > 0) {
      throw new InputError(`checkpoint weights do not match the model config: missing ${JSON.stringify(missing.slice(0, 5))}, unknown ${JSON.stringify(unknown.slice(0, 5))}`, file);
    }
    for (const [prefix, store] of stores) {
      for (const [name, tensor] of store.entries()) {
        const values = weights.get(prefix + name)!;
        if (values.length !== tensor.size) {
          throw new InputError(`weight ${prefix + name} has ${values.length} values; the model needs shape [${tensor.shape.join(', ')}]`, file);
        }
        store.set(name, values);
      }
    }
  }

  #blocksOf(prefix: 'sample_blocks' | 'description_blocks' | 'encoder_blocks' | 'decoder_blocks'): TransformerBlock[] {
    if (prefix === 'sample_blocks') return this.sampleBlocks;
    if (prefix === 'description_blocks') return this.descriptionBlocks;
    if (prefix === 'encoder_blocks') return this.encoderBlocks;
    return this.decoderBlocks;
  }

  parameterCount(): number {
    return this.parameters().reduce((sum, [, tensor]) => sum + tensor.size, 0);
  }

  /**
   * Index, mask and selection tensors of the current batch. The tape needs
   * them during backward, after the forward scope has closed, so they are kept
   * out of the scope and released by `releaseBatchTensors`.
   */
  readonly #batchTensors: Tensor[] = [];

  #constant(values: ArrayLike<number>, shape: number[], dtype: 'i32' | 'f32'): Tensor {
    const tensor = keep(this.device.tensor(values, shape, dtype));
    this.#batchTensors.push(tensor);
    return tensor;
  }

  #ids(values: number[]): Tensor {
    return this.#constant(values, [values.length], 'i32');
  }

  #mask(rows: number, columns: number, lengths: number[]): Tensor {
    const data = new Float32Array(rows * columns);
    lengths.forEach((length, row) => data.fill(1, row * columns, row * columns + length));
    return this.#constant(data, [rows, columns], 'f32');
  }

  #selection(rows: number, columns: number, ones: Iterable<[number, number]>): Tensor {
    return this.#constant(selectionData(rows, columns, ones), [rows, columns], 'f32');
  }

  /** Disposes the current batch's index and mask tensors; call after backward (or after reading an inference result). */
  releaseBatchTensors(): void {
    for (const tensor of this.#batchTensors.splice(0)) tensor.dispose();
  }

  #layerNorm(name: string, x: Tensor): Tensor {
    return F.layerNorm(x, this.params.get(`${name}.weight`), this.params.get(`${name}.bias`), this.config.normEps);
  }

  /** Runs `blocks` over x, in f16 when the activations are f16; takes and returns f32. */
  #runStack(blocks: readonly TransformerBlock[], x: Tensor, context: Omit<BlockContext, 'computeDType'>): Tensor {
    const half = this.#activationDType === 'f16';
    let h = half ? F.cast(x, 'f16') : x;
    const memory = half && context.memory ? F.cast(context.memory, 'f16') : context.memory;
    for (const block of blocks) h = block.forward(h, { ...context, memory, computeDType: this.#activationDType });
    return half ? F.cast(h, 'f32') : h;
  }

  /** Sample embedder: [I·T, d]. */
  #embedSamples(batch: ModelBatch): Tensor {
    const { instances: I, samples: S, ioLength: T } = batch;
    const sequences = I * T * 2;
    const positions = Array.from({ length: sequences * S }, (_, index) => index % S);
    let x = F.add(F.embedding(this.params.get('input_embed.weight'), this.#ids(batch.ioIds)), F.embedding(this.params.get('sample_position.weight'), this.#ids(positions)));
    x = this.#layerNorm('sample_norm', x);
    const counts = Array.from({ length: sequences }, (_, sequence) => batch.sampleCounts[Math.floor(sequence / (T * 2))]);
    const keyMask = this.#mask(sequences, S, counts);
    x = this.#runStack(this.sampleBlocks, x, { batch: sequences, keyMask });

    // Pick the output at sample 0, then sum the syntax (even) and content (odd) channel rows.
    const first = F.embedding(x, this.#ids(Array.from({ length: sequences }, (_, sequence) => sequence * S)));
    const syntaxRows = Array.from({ length: I * T }, (_, row) => row * 2);
    return F.add(F.embedding(first, this.#ids(syntaxRows)), F.embedding(first, this.#ids(syntaxRows.map((row) => row + 1))));
  }

  /** Description encoder, pooled: one [I, d] tensor per description vector, each plus its marker. */
  #embedDescriptions(batch: ModelBatch): Tensor[] {
    const pooled = this.descriptionProjection === null ? this.#encodeDescriptions(batch) : this.#projectDescriptionFeatures(batch, this.descriptionProjection);
    const markers = this.params.get('description_marker.weight');
    return pooled.map((vectors, k) => F.add(vectors, F.embedding(markers, this.#ids(new Array<number>(batch.instances).fill(k)))));
  }

  /** Projects the batch's frozen ONNX features; the features are constants, so gradients stop at the projection. */
  #projectDescriptionFeatures(batch: ModelBatch, projection: DescriptionProjection): Tensor[] {
    const features = batch.descriptionFeatures;
    if (features === undefined) {
      throw new InputError('Model batch: descriptionFeatures is missing, but this model uses an ONNX description encoder; attach the pooled features to the problems first (attachDescriptionFeatures).');
    }
    return projection.forward(features, batch.instances, this.descriptionVectors, (values, shape) => this.#constant(values, shape, 'f32'));
  }

  /** Trainable description stack, pooled: one [I, d] tensor per description vector. */
  #encodeDescriptions(batch: ModelBatch): Tensor[] {
    const { instances: I, descriptionLength: Ld } = batch;
    const positions = Array.from({ length: I * Ld }, (_, index) => index % Ld);
    let x = F.add(
      F.embedding(this.params.get('description_embed.weight'), this.#ids(batch.descriptionIds)),
      F.embedding(this.params.get('description_position.weight'), this.#ids(positions)),
    );
    x = this.#layerNorm('description_norm', x);
    const keyMask = this.#mask(I, Ld, batch.descriptionLengths);
    x = this.#runStack(this.descriptionBlocks, x, { batch: I, keyMask });

    const firstRows = Array.from({ length: I }, (_, i) => i * Ld);
    const lastRows = batch.descriptionLengths.map((length, i) => i * Ld + length - 1);
    const pooled = [F.embedding(x, this.#ids(firstRows)), F.embedding(x, this.#ids(lastRows))];
    if (descriptionPoolingOf(this.config) === 'first-last-mean') {
      const meanWeights = new Float32Array(I * I * Ld);
      batch.descriptionLengths.forEach((length, i) => meanWeights.fill(1 / length, i * I * Ld + i * Ld, i * I * Ld + i * Ld + length));
      pooled.push(F.matmul(this.#constant(meanWeights, [I, I * Ld], 'f32'), x));
    } else {
      pooled.push(this.#poolExtremum(x, batch, 'max'), this.#poolExtremum(x, batch, 'min'));
    }
    return pooled;
  }

  /**
   * Element-wise max (or min) over the real rows of each description. Padding
   * rows are pushed to ∓1e30 first, so the reduction never picks them.
   */
  #poolExtremum(x: Tensor, batch: ModelBatch, kind: 'max' | 'min'): Tensor {
    const { instances: I, descriptionLength: Ld } = batch;
    const dim = this.config.dim;
    const offsets = new Float32Array(I * Ld * dim);
    const padding = kind === 'max' ? -PADDING_OFFSET : PADDING_OFFSET;
    batch.descriptionLengths.forEach((length, i) => offsets.fill(padding, (i * Ld + length) * dim, (i + 1) * Ld * dim));
    const shifted = F.reshape(F.add(x, this.#constant(offsets, [I * Ld, dim], 'f32')), [I, Ld, dim]);
    return kind === 'max' ? reduceMax(shifted, 1) : reduceMin(shifted, 1);
  }

  /** Encoder over [description vectors, I/O embeddings] per instance: [I·M, d] with M = descriptionVectors + T. */
  encode(batch: ModelBatch): Tensor {
    checkBatch(batch);
    const { instances: I, ioLength: T } = batch;
    const D = this.descriptionVectors;
    const M = D + T;
    const io = this.#embedSamples(batch);
    const descriptions = this.#embedDescriptions(batch);

    // Concatenate through selection matrices: row i·M + k takes description vector k, row i·M + D + t takes I/O row i·T + t.
    let x = F.matmul(this.#selection(I * M, I * T, (function* () {
      for (let i = 0; i < I; i++) for (let t = 0; t < T; t++) yield [i * M + D + t, i * T + t] as [number, number];
    })()), io);
    descriptions.forEach((vectors, k) => {
      x = F.add(x, F.matmul(this.#selection(I * M, I, Array.from({ length: I }, (_, i): [number, number] => [i * M + k, i])), vectors));
    });
    x = F.add(x, F.embedding(this.params.get('encoder_position.weight'), this.#ids(Array.from({ length: I * M }, (_, row) => row % M))));
    x = this.#layerNorm('encoder_norm', x);
    const keyMask = this.#mask(I, M, batch.ioLengths.map((length) => D + length));
    return this.#runStack(this.encoderBlocks, x, { batch: I, keyMask });
  }

  /** Decoder logits [B·(Lt−1), outputVocab] for teacher forcing: position p predicts target token p + 1. */
  decode(batch: ModelBatch, memory: Tensor): Tensor {
    const { ioLength: T, targetLength: Lt } = batch;
    const M = this.descriptionVectors + T;
    const programs = batch.programInstance.length;
    const steps = Lt - 1;

    const inputIds = Array.from({ length: programs * steps }, (_, index) => batch.targets[Math.floor(index / steps) * Lt + (index % steps)]);
    const positions = Array.from({ length: programs * steps }, (_, index) => index % steps);
    const table = this.params.get('output_embed.weight');
    let x = F.add(F.embedding(table, this.#ids(inputIds)), F.embedding(this.params.get('decoder_position.weight'), this.#ids(positions)));
    x = this.#layerNorm('decoder_norm', x);

    const memoryRows = batch.programInstance.flatMap((instance) => Array.from({ length: M }, (_, m) => instance * M + m));
    const programMemory = F.embedding(memory, this.#ids(memoryRows));
    const memoryMask = this.#mask(programs, M, batch.programInstance.map((instance) => this.descriptionVectors + batch.ioLengths[instance]));
    const keyMask = this.#mask(programs, steps, batch.targetLengths.map((length) => length - 1));
    x = this.#runStack(this.decoderBlocks, x, { batch: programs, keyMask, memory: programMemory, memoryMask });
    // Tied output projection: logits = x · E_outᵀ.
    return F.linear(x, table);
  }

  /**
   * Mean teacher-forced cross-entropy over every real target token after BOS
   * (separators and EOS included). Call `releaseBatchTensors` once the loss
   * has been backpropagated or read.
   */
  loss(batch: ModelBatch): Tensor {
    return scope(() => {
      const logits = this.decode(batch, this.encode(batch));
      return F.crossEntropy(logits, this.#ids(teacherForcingLabels(batch)));
    });
  }

  dispose(): void {
    this.releaseBatchTensors();
    this.params.dispose();
    this.descriptionProjection?.dispose();
    for (const block of [...this.sampleBlocks, ...this.descriptionBlocks, ...this.encoderBlocks, ...this.decoderBlocks]) block.dispose();
  }
}

/** Raises a UsageError naming `device` unless it can store f16 activations (webgpu with `shader-f16`). */
export function checkF16Activations(device: Device): void {
  if (device.kind === 'webgpu' && device.supportsDType('f16')) return;
  const { name, description } = device.info;
  throw new UsageError(
    `f16 activations need a webgpu device with the shader-f16 feature; the ${device.kind} device "${description || name}" does not have it. Train without --f16 or pick such a device with --device webgpu.`,
  );
}

/** Label of decoder positions past a program's end; cross-entropy skips them. */
export const IGNORE_LABEL = IGNORE_INDEX;

/** Labels for decoder position p of program b: target token p + 1, or IGNORE_INDEX past the program's end. */
export function teacherForcingLabels(batch: ModelBatch): number[] {
  const { targetLength: Lt } = batch;
  const steps = Lt - 1;
  return Array.from({ length: batch.programInstance.length * steps }, (_, index) => {
    const program = Math.floor(index / steps);
    const position = index % steps;
    return position + 1 < batch.targetLengths[program] ? batch.targets[program * Lt + position + 1] : IGNORE_LABEL;
  });
}
