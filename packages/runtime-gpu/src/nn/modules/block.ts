/**
 * Transformer blocks built from the nn ops: a decoder block (Llama-style or
 * GPT/OPT-style, chosen by BlockConfig), an encoder block (bidirectional), and a
 * decoder block with cross-attention over an encoder's output (ChainCoder).
 *
 * Activations are 2-D [batch·seq, dim]. Every linear layer has a name
 * (`attn.q`, `attn.k`, `attn.v`, `attn.o`, `cross.q` … `cross.o`, `mlp.gate`,
 * `mlp.up`, `mlp.down`) and a weight stored [out, in]. `onLinearInput` receives
 * each layer's name and input [tokens, in] before the layer runs, which is how
 * pruning collects calibration statistics. The hook's tensor is disposed after
 * the forward pass, so a hook must queue its work (or copy) during the call.
 */
import type { Random } from '@sculpt/core';
import type { Device } from '../../device.js';
import { ShapeError } from '../../errors.js';
import { runKernel } from '../../kernels/registry.js';
import { scope } from '../../scope.js';
import type { Tensor } from '../../tensor.js';
import { activeTape } from '../autograd/tape.js';
import * as F from '../functional.js';
import { headDimOf, type BlockConfig } from './config.js';
import { ParameterStore } from './parameters.js';

export type LinearInputHook = (name: string, input: Tensor) => void;

/** Keys and values of one block for incremental decoding: [batch·capacity, kvHeads·headDim] each. */
export interface LayerKVCache {
  k: Tensor;
  v: Tensor;
  batch: number;
  capacity: number;
  /** Rows filled per batch entry. */
  length: number;
}

export interface BlockContext {
  batch: number;
  /** i32 [tokens]: position of each row, required when the block uses RoPE. */
  positions?: Tensor;
  /** f32 [batch, keys]: 1 for real keys, 0 for padding. With a cache, its width is the cache capacity. */
  keyMask?: Tensor;
  /** Append this call's keys and values and attend over everything cached (inference only). */
  cache?: LayerKVCache;
  onLinearInput?: LinearInputHook;
  /**
   * Storage type of activations. `f16` (webgpu with shader-f16) casts the f32
   * master weights to f16 copies on use, so gradients still reach them in f32;
   * x must then be f16 too. Kernels accumulate in f32 either way.
   */
  computeDType?: 'f32' | 'f16';
  /** Encoder output [batch·memoryLength, dim] for blocks with cross-attention. */
  memory?: Tensor;
  /** f32 [batch, memoryLength]: padding mask of the encoder output. */
  memoryMask?: Tensor;
}

export interface LinearLayer {
  name: string;
  inFeatures: number;
  outFeatures: number;
  hasBias: boolean;
}

export interface BlockOptions {
  /** Adds a cross-attention sublayer between self-attention and the MLP. */
  crossAttention?: boolean;
  /** Draws the initial weights; without it weights start at zero (to be loaded). */
  random?: Random;
  /** Standard deviation of the initial linear weights (0.02 as in GPT-2). */
  initStd?: number;
}

export class TransformerBlock {
  readonly params: ParameterStore;
  readonly headDim: number;
  readonly crossAttention: boolean;

  constructor(
    readonly device: Device,
    readonly config: BlockConfig,
    options: BlockOptions = {},
  ) {
    if (config.heads % config.kvHeads !== 0) throw new ShapeError(`Block config: heads=${config.heads} is not a multiple of kvHeads=${config.kvHeads}`);
    this.headDim = headDimOf(config);
    this.crossAttention = options.crossAttention ?? false;
    this.params = new ParameterStore(device);
    const std = options.initStd ?? 0.02;

    for (const layer of this.linearLayers()) {
      const init = options.random ? { std, random: options.random } : { value: 0 };
      this.params.create(`${layer.name}.weight`, [layer.outFeatures, layer.inFeatures], init);
      if (layer.hasBias) this.params.create(`${layer.name}.bias`, [layer.outFeatures], { value: 0 });
    }
    for (const norm of this.#normNames()) {
      this.params.create(`${norm}.weight`, [config.dim], { value: 1 });
      if (config.norm === 'layer') this.params.create(`${norm}.bias`, [config.dim], { value: 0 });
    }
  }

  #normNames(): string[] {
    return this.crossAttention ? ['attn_norm', 'cross_norm', 'mlp_norm'] : ['attn_norm', 'mlp_norm'];
  }

  /** Lists every linear layer of the block, in execution order. */
  linearLayers(): LinearLayer[] {
    const { dim, heads, kvHeads, hiddenDim, attentionBias, mlpBias } = this.config;
    const qDim = heads * this.headDim;
    const kvDim = kvHeads * this.headDim;
    const attention = (prefix: string): LinearLayer[] => [
      { name: `${prefix}.q`, inFeatures: dim, outFeatures: qDim, hasBias: attentionBias },
      { name: `${prefix}.k`, inFeatures: dim, outFeatures: kvDim, hasBias: attentionBias },
      { name: `${prefix}.v`, inFeatures: dim, outFeatures: kvDim, hasBias: attentionBias },
      { name: `${prefix}.o`, inFeatures: qDim, outFeatures: dim, hasBias: attentionBias },
    ];
    const layers = attention('attn');
    if (this.crossAttention) layers.push(...attention('cross'));
    if (this.config.mlp === 'glu') layers.push({ name: 'mlp.gate', inFeatures: dim, outFeatures: hiddenDim, hasBias: mlpBias });
    layers.push({ name: 'mlp.up', inFeatures: dim, outFeatures: hiddenDim, hasBias: mlpBias });
    layers.push({ name: 'mlp.down', inFeatures: hiddenDim, outFeatures: dim, hasBias: mlpBias });
    return layers;
  }

  /** Returns the weight [out, in] of linear layer `name`. */
  linearWeight(name: string): Tensor {
    return this.params.get(`${name}.weight`);
  }

  /** Replaces the weight [out, in] of linear layer `name` (the old tensor is disposed). */
  setLinearWeight(name: string, weight: Tensor | Float32Array): void {
    this.params.set(`${name}.weight`, weight);
  }

  parameters(): [string, Tensor][] {
    return this.params.entries();
  }

  /** Allocates an empty KV cache for `batch` sequences of up to `capacity` tokens. */
  createCache(batch: number, capacity: number): LayerKVCache {
    const shape = [batch * capacity, this.config.kvHeads * this.headDim];
    return { k: this.device.zeros(shape), v: this.device.zeros(shape), batch, capacity, length: 0 };
  }

  /** Runs the block on x [batch·seq, dim]; intermediates not needed by an active tape are freed. */
  forward(x: Tensor, context: BlockContext): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.config.dim) throw new ShapeError(`Block forward: x must be [tokens, ${this.config.dim}], got ${x.describe()}`);
    if (this.crossAttention && context.memory === undefined) throw new ShapeError('Block forward: a cross-attention block needs context.memory (the encoder output)');
    return scope(() => (this.config.preNorm ? this.#forwardPreNorm(x, context) : this.#forwardPostNorm(x, context)));
  }

  #forwardPreNorm(x: Tensor, context: BlockContext): Tensor {
    let [h, normed] = this.#addNorm(x, this.#selfAttention(this.#norm('attn_norm', x, context), context), this.crossAttention ? 'cross_norm' : 'mlp_norm', context);
    if (this.crossAttention) [h, normed] = this.#addNorm(h, this.#crossAttention(normed, context), 'mlp_norm', context);
    return F.add(h, this.#mlp(normed, context));
  }

  /** Returns [x + update, norm(x + update)] from one fused kernel. */
  #addNorm(x: Tensor, update: Tensor, name: string, context: BlockContext): [Tensor, Tensor] {
    const weight = this.#param(`${name}.weight`, context);
    if (this.config.norm === 'rms') return F.addRmsNorm(x, update, weight, this.config.normEps);
    return F.addLayerNorm(x, update, weight, this.#param(`${name}.bias`, context), this.config.normEps);
  }

  #forwardPostNorm(x: Tensor, context: BlockContext): Tensor {
    let h = this.#norm('attn_norm', F.add(x, this.#selfAttention(x, context)), context);
    if (this.crossAttention) h = this.#norm('cross_norm', F.add(h, this.#crossAttention(h, context)), context);
    return this.#norm('mlp_norm', F.add(h, this.#mlp(h, context)), context);
  }

  /** Returns parameter `name` in the context's compute dtype (a recorded cast for f16). */
  #param(name: string, context: BlockContext): Tensor {
    const tensor = this.params.get(name);
    return context.computeDType === 'f16' ? F.cast(tensor, 'f16') : tensor;
  }

  #norm(name: string, x: Tensor, context: BlockContext): Tensor {
    const weight = this.#param(`${name}.weight`, context);
    if (this.config.norm === 'rms') return F.rmsNorm(x, weight, this.config.normEps);
    return F.layerNorm(x, weight, this.#param(`${name}.bias`, context), this.config.normEps);
  }

  #linear(name: string, x: Tensor, context: BlockContext): Tensor {
    context.onLinearInput?.(name, x);
    const bias = this.params.has(`${name}.bias`) ? this.#param(`${name}.bias`, context) : null;
    return F.linear(x, this.#param(`${name}.weight`, context), bias);
  }

  #selfAttention(x: Tensor, context: BlockContext): Tensor {
    const { heads, kvHeads, rope, causal } = this.config;
    let q = this.#linear('attn.q', x, context);
    let k = this.#linear('attn.k', x, context);
    const v = this.#linear('attn.v', x, context);
    if (rope !== null) {
      if (context.positions === undefined) throw new ShapeError('Block forward: this block uses RoPE, so context.positions (i32 [tokens]) is required');
      const ropeConfig = { heads, headDim: this.headDim, theta: rope.theta, layout: rope.layout, scaling: rope.scaling ?? 1 };
      q = F.rope(q, context.positions, ropeConfig);
      k = F.rope(k, context.positions, { ...ropeConfig, heads: kvHeads });
    }

    const options = { batch: context.batch, heads, kvHeads, headDim: this.headDim, causal, keyMask: context.keyMask };
    let attended: Tensor;
    if (context.cache) {
      attended = this.#attendWithCache(q, k, v, context.cache, options);
    } else {
      attended = F.attention(q, k, v, options);
    }
    return this.#linear('attn.o', attended, context);
  }

  #attendWithCache(q: Tensor, k: Tensor, v: Tensor, cache: LayerKVCache, options: F.AttentionOptions): Tensor {
    if (activeTape() !== null) throw new Error('Block forward: the KV cache is for inference; run it under noGrad()');
    const newRows = k.shape[0] / cache.batch;
    if (cache.length + newRows > cache.capacity) {
      throw new ShapeError(`KV cache overflow: ${cache.length} cached + ${newRows} new tokens exceed the capacity of ${cache.capacity}`);
    }
    const attrs = { batch: cache.batch, capacity: cache.capacity, offset: cache.length };
    runKernel('nn.writeRowsInplace', [cache.k, k], attrs);
    runKernel('nn.writeRowsInplace', [cache.v, v], attrs);
    cache.length += newRows;
    return F.attention(q, cache.k, cache.v, { ...options, keyLength: cache.length });
  }

  #crossAttention(x: Tensor, context: BlockContext): Tensor {
    const { heads, kvHeads } = this.config;
    const memory = context.memory!;
    const q = this.#linear('cross.q', x, context);
    const k = this.#linear('cross.k', memory, context);
    const v = this.#linear('cross.v', memory, context);
    const attended = F.attention(q, k, v, {
      batch: context.batch,
      heads,
      kvHeads,
      headDim: this.headDim,
      causal: false,
      keyMask: context.memoryMask,
    });
    return this.#linear('cross.o', attended, context);
  }

  #mlp(x: Tensor, context: BlockContext): Tensor {
    const { activation } = this.config;
    let hidden: Tensor;
    if (this.config.mlp === 'glu') {
      hidden = F.glu(this.#linear('mlp.gate', x, context), this.#linear('mlp.up', x, context), activation);
    } else {
      hidden = F.activation(this.#linear('mlp.up', x, context), activation);
    }
    return this.#linear('mlp.down', hidden, context);
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** Creates a decoder block (causal self-attention) as configured. */
export function createDecoderBlock(device: Device, config: BlockConfig, options: BlockOptions = {}): TransformerBlock {
  return new TransformerBlock(device, { ...config, causal: true }, options);
}

/** Creates an encoder block: bidirectional self-attention, padding masked through keyMask. */
export function createEncoderBlock(device: Device, config: BlockConfig, options: BlockOptions = {}): TransformerBlock {
  return new TransformerBlock(device, { ...config, causal: false }, options);
}

/** Creates a decoder block with cross-attention over an encoder output (context.memory). */
export function createCrossDecoderBlock(device: Device, config: BlockConfig, options: BlockOptions = {}): TransformerBlock {
  return new TransformerBlock(device, { ...config, causal: true }, { ...options, crossAttention: true });
}
