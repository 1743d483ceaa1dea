/**
 * The ChainCoder training step written out by hand for the benchmark
 * baseline: the same sample embedder, description encoder, encoder, decoder
 * with cross-attention and tied output projection as `ChainCoderModel`, with
 * the same parameter names, followed by Adam with global-norm clipping.
 * Loops do the gathers, norms, softmaxes and the optimizer; onnxruntime does
 * every matrix product (ops.ts). It covers the whole model, including the
 * sample embedder's attention across samples.
 */
import type { ChainCoderConfig, ModelBatch } from '../../src/model/index.js';
import { IGNORE_LABEL, descriptionPoolingOf, descriptionVectorCount, teacherForcingLabels } from '../../src/model/index.js';
import { BaselineOps, Value } from './ops.js';
import type { OrtProducts } from './ort-matmul.js';

/** Lengths-per-row padding mask [rows, columns]: 1 for the first `lengths[row]` columns. */
function lengthMask(rows: number, columns: number, lengths: readonly number[]): Float32Array {
  const mask = new Float32Array(rows * columns);
  lengths.forEach((length, row) => mask.fill(1, row * columns, row * columns + length));
  return mask;
}

interface StackContext {
  batch: number;
  keyMask: Float32Array;
  memory?: Value;
  memoryMask?: Float32Array;
}

export interface AdamSettings {
  beta1: number;
  beta2: number;
  eps: number;
  maxGradNorm: number;
}

export class BaselineChainCoder {
  readonly params = new Map<string, Value>();
  readonly #moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  readonly ops: BaselineOps;
  #step = 0;

  /** `weights` are the model's parameters by name, with their shapes; they are copied. */
  constructor(
    readonly config: ChainCoderConfig,
    weights: Iterable<[string, Float32Array, readonly number[]]>,
    products: OrtProducts,
  ) {
    this.ops = new BaselineOps(products);
    for (const [name, data, shape] of weights) {
      const rows = shape.length === 1 ? 1 : shape[0];
      this.params.set(name, new Value(Float32Array.from(data), rows, data.length / rows));
      this.#moments.set(name, { m: new Float32Array(data.length), v: new Float32Array(data.length) });
    }
  }

  #param(name: string): Value {
    const value = this.params.get(name);
    if (value === undefined) throw new Error(`baseline: parameter ${name} is missing`);
    return value;
  }

  #layerNorm(name: string, x: Value): Value {
    return this.ops.layerNorm(x, this.#param(`${name}.weight`), this.#param(`${name}.bias`), this.config.normEps);
  }

  #linear(prefix: string, name: string, x: Value): Promise<Value> {
    return this.ops.linear(x, this.#param(`${prefix}.${name}.weight`), this.#param(`${prefix}.${name}.bias`));
  }

  async #attention(prefix: string, sublayer: 'attn' | 'cross', x: Value, keys: Value, context: { batch: number; causal: boolean; keyMask?: Float32Array }): Promise<Value> {
    const q = await this.#linear(prefix, `${sublayer}.q`, x);
    const k = await this.#linear(prefix, `${sublayer}.k`, keys);
    const v = await this.#linear(prefix, `${sublayer}.v`, keys);
    const attended = await this.ops.attention(q, k, v, { ...context, heads: this.config.heads });
    return this.#linear(prefix, `${sublayer}.o`, attended);
  }

  async #feedForward(prefix: string, x: Value): Promise<Value> {
    return this.#linear(prefix, 'mlp.down', this.ops.relu(await this.#linear(prefix, 'mlp.up', x)));
  }

  /** One transformer block (post-LN or pre-LN as configured), with cross-attention when `context.memory` is set. */
  async #block(prefix: string, x: Value, causal: boolean, context: StackContext): Promise<Value> {
    const selfContext = { batch: context.batch, causal, keyMask: context.keyMask };
    const crossContext = { batch: context.batch, causal: false, keyMask: context.memoryMask };
    const ln = (name: string, value: Value): Value => this.#layerNorm(`${prefix}.${name}`, value);

    if (this.config.preNorm) {
      const normed = ln('attn_norm', x);
      let h = this.ops.add(x, await this.#attention(prefix, 'attn', normed, normed, selfContext));
      if (context.memory !== undefined) {
        h = this.ops.add(h, await this.#attention(prefix, 'cross', ln('cross_norm', h), context.memory, crossContext));
      }
      return this.ops.add(h, await this.#feedForward(prefix, ln('mlp_norm', h)));
    }

    let h = ln('attn_norm', this.ops.add(x, await this.#attention(prefix, 'attn', x, x, selfContext)));
    if (context.memory !== undefined) h = ln('cross_norm', this.ops.add(h, await this.#attention(prefix, 'cross', h, context.memory, crossContext)));
    return ln('mlp_norm', this.ops.add(h, await this.#feedForward(prefix, h)));
  }

  async #stack(prefix: string, layers: number, x: Value, causal: boolean, context: StackContext): Promise<Value> {
    for (let layer = 0; layer < layers; layer++) x = await this.#block(`${prefix}.${layer}`, x, causal, context);
    return x;
  }

  async #embedSamples(batch: ModelBatch): Promise<Value> {
    const { instances: I, samples: S, ioLength: T } = batch;
    const sequences = I * T * 2;
    const positions = Array.from({ length: sequences * S }, (_, index) => index % S);
    let x = this.ops.add(this.ops.gather(this.#param('input_embed.weight'), batch.ioIds), this.ops.gather(this.#param('sample_position.weight'), positions));
    x = this.#layerNorm('sample_norm', x);
    const counts = Array.from({ length: sequences }, (_, sequence) => batch.sampleCounts[Math.floor(sequence / (T * 2))]);
    x = await this.#stack('sample_blocks', this.config.sampleEmbedderLayers, x, false, { batch: sequences, keyMask: lengthMask(sequences, S, counts) });

    // Output at sample 0 of each sequence, then syntax (even) + content (odd) channels.
    const first = this.ops.gather(x, Array.from({ length: sequences }, (_, sequence) => sequence * S));
    const syntaxRows = Array.from({ length: I * T }, (_, row) => row * 2);
    return this.ops.add(this.ops.gather(first, syntaxRows), this.ops.gather(first, syntaxRows.map((row) => row + 1)));
  }

  async #embedDescriptions(batch: ModelBatch): Promise<Value[]> {
    const { instances: I, descriptionLength: Ld } = batch;
    const positions = Array.from({ length: I * Ld }, (_, index) => index % Ld);
    let x = this.ops.add(
      this.ops.gather(this.#param('description_embed.weight'), batch.descriptionIds),
      this.ops.gather(this.#param('description_position.weight'), positions),
    );
    x = this.#layerNorm('description_norm', x);
    x = await this.#stack('description_blocks', this.config.descriptionLayers, x, false, { batch: I, keyMask: lengthMask(I, Ld, batch.descriptionLengths) });

    const starts = Array.from({ length: I }, (_, i) => i * Ld);
    const pooled = [this.ops.gather(x, starts), this.ops.gather(x, batch.descriptionLengths.map((length, i) => i * Ld + length - 1))];
    if (descriptionPoolingOf(this.config) === 'first-last-mean') {
      pooled.push(this.ops.meanRows(x, starts, batch.descriptionLengths));
    } else {
      pooled.push(this.ops.extremumRows(x, starts, batch.descriptionLengths, 'max'), this.ops.extremumRows(x, starts, batch.descriptionLengths, 'min'));
    }
    const markers = this.#param('description_marker.weight');
    return pooled.map((vectors, k) => this.ops.add(vectors, this.ops.gather(markers, new Array<number>(I).fill(k))));
  }

  async #encode(batch: ModelBatch): Promise<Value> {
    const { instances: I, ioLength: T } = batch;
    const D = descriptionVectorCount(this.config);
    const M = D + T;
    const io = await this.#embedSamples(batch);
    const descriptions = await this.#embedDescriptions(batch);

    const ioTargets = Array.from({ length: I * T }, (_, row) => Math.floor(row / T) * M + D + (row % T));
    let x = this.ops.place(I * M, this.config.dim, [
      { value: io, targets: ioTargets },
      ...descriptions.map((value, k) => ({ value, targets: Array.from({ length: I }, (_, i) => i * M + k) })),
    ]);
    x = this.ops.add(x, this.ops.gather(this.#param('encoder_position.weight'), Array.from({ length: I * M }, (_, row) => row % M)));
    x = this.#layerNorm('encoder_norm', x);
    const keyMask = lengthMask(I, M, batch.ioLengths.map((length) => D + length));
    return this.#stack('encoder_blocks', this.config.encoderLayers, x, false, { batch: I, keyMask });
  }

  async #decode(batch: ModelBatch, memory: Value): Promise<Value> {
    const { ioLength: T, targetLength: Lt } = batch;
    const D = descriptionVectorCount(this.config);
    const M = D + T;
    const programs = batch.programInstance.length;
    const steps = Lt - 1;

    const inputIds = Array.from({ length: programs * steps }, (_, index) => batch.targets[Math.floor(index / steps) * Lt + (index % steps)]);
    const positions = Array.from({ length: programs * steps }, (_, index) => index % steps);
    const table = this.#param('output_embed.weight');
    let x = this.ops.add(this.ops.gather(table, inputIds), this.ops.gather(this.#param('decoder_position.weight'), positions));
    x = this.#layerNorm('decoder_norm', x);

    const programMemory = this.ops.gather(memory, batch.programInstance.flatMap((instance) => Array.from({ length: M }, (_, m) => instance * M + m)));
    x = await this.#stack('decoder_blocks', this.config.decoderLayers, x, true, {
      batch: programs,
      keyMask: lengthMask(programs, steps, batch.targetLengths.map((length) => length - 1)),
      memory: programMemory,
      memoryMask: lengthMask(programs, M, batch.programInstance.map((instance) => D + batch.ioLengths[instance])),
    });
    return this.ops.linear(x, table, null);
  }

  /** Forward and backward of the teacher-forced loss; gradients accumulate into `params`. Returns the loss. */
  async lossAndGradients(batch: ModelBatch): Promise<number> {
    const logits = await this.#decode(batch, await this.#encode(batch));
    const loss = this.ops.crossEntropy(logits, teacherForcingLabels(batch), IGNORE_LABEL);
    await this.ops.backward(loss);
    return loss.data[0];
  }

  /** One full training step: gradients, global-norm clipping and an Adam update at `lr`; returns the loss. */
  async trainStep(batch: ModelBatch, lr: number, adam: AdamSettings): Promise<number> {
    for (const value of this.params.values()) value.grad = null;
    const loss = await this.lossAndGradients(batch);
    this.#adamUpdate(lr, adam);
    return loss;
  }

  #adamUpdate(lr: number, { beta1, beta2, eps, maxGradNorm }: AdamSettings): void {
    let normSquared = 0;
    for (const value of this.params.values()) if (value.grad !== null) for (const g of value.grad) normSquared += g * g;
    const norm = Math.sqrt(normSquared);
    const clip = maxGradNorm > 0 && norm > maxGradNorm ? maxGradNorm / (norm + 1e-6) : 1;

    this.#step++;
    const correction1 = 1 - beta1 ** this.#step;
    const correction2 = 1 - beta2 ** this.#step;
    for (const [name, value] of this.params) {
      if (value.grad === null) continue;
      const { m, v } = this.#moments.get(name)!;
      for (let i = 0; i < value.data.length; i++) {
        const g = value.grad[i] * clip;
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        value.data[i] -= (lr * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + eps);
      }
    }
  }
}
