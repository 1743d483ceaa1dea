/**
 * Runs a model's blocks on a Device (WebGPU or the cpu device) through nn's
 * TransformerBlock. Each block's weights are uploaded when the block first
 * runs and freed by `release`, so only the blocks in use occupy device memory.
 *
 * The device path serves forward passes, generation and pruning passes. A
 * pruning pass passes a `DeviceLinearInputHook`, which receives each linear
 * layer's input as a device tensor under its Hugging Face name. The tensor is
 * freed when the forward pass returns, so the hook must queue its work on the
 * device during the call (statistics kernels, products) instead of keeping it.
 */
import { UsageError } from '@sculpt/core';
import type { Device } from '../device.js';
import { createDecoderBlock, type LayerKVCache, type TransformerBlock } from '../nn/modules/block.js';
import type { BlockConfig } from '../nn/modules/config.js';
import type { Tensor } from '../tensor.js';
import { BLOCK_LAYOUTS, type ModelConfig } from './config.js';
import type { BlockWeights } from './weights.js';

/** nn's linear-layer names for each Hugging Face role. */
function nnLinearNames(config: ModelConfig): Map<string, string> {
  const layout = BLOCK_LAYOUTS[config.family];
  const names = new Map<string, string>([[layout.output, 'attn.o']]);
  if (layout.query !== undefined) {
    names.set(layout.query, 'attn.q');
    names.set(layout.key!, 'attn.k');
    names.set(layout.value!, 'attn.v');
  }
  if (config.family === 'llama') {
    names.set(layout.gate!, 'mlp.gate');
    names.set(layout.up!, 'mlp.up');
    names.set(layout.down!, 'mlp.down');
  } else {
    names.set(layout.fc1!, 'mlp.up');
    names.set(layout.fc2!, 'mlp.down');
  }
  return names;
}

/**
 * Receives one linear layer's input [rows, inFeatures] on the device, named as
 * in the model file (e.g. "self_attn.q_proj"). Layers that share an input get
 * the same tensor object. GPT-2's fused c_attn is reported once.
 */
export type DeviceLinearInputHook = (name: string, input: Tensor) => void;

/**
 * Maps nn's layer names back to the model file's. For a fused q/k/v layer only
 * `attn.q` maps (to the fused name), because q, k and v share one input.
 */
function hookNamesOf(config: ModelConfig): Map<string, string> {
  const names = new Map<string, string>();
  for (const [hfName, nnName] of nnLinearNames(config)) names.set(nnName, hfName);
  const fused = BLOCK_LAYOUTS[config.family].fusedQkv;
  if (fused !== undefined) names.set('attn.q', fused);
  return names;
}

/** Rejects configs nn's block cannot express. */
function blockConfigOf(config: ModelConfig, weights: BlockWeights): BlockConfig {
  if (config.slidingWindow !== undefined) throw new UsageError('sliding-window attention has no device path yet; use --device cpu');
  if (config.ropeScaling?.type === 'llama3') throw new UsageError('llama3 rope_scaling has no device path yet; use --device cpu');
  const biases = [...weights.linears.entries()];
  const layout = BLOCK_LAYOUTS[config.family];
  const isMlp = (name: string) => name !== layout.output && name !== layout.query && name !== layout.key && name !== layout.value && name !== layout.fusedQkv;
  return {
    dim: config.dim,
    heads: config.nHeads,
    kvHeads: config.nKvHeads,
    headDim: config.headDim,
    hiddenDim: config.hiddenDim,
    norm: config.family === 'llama' ? 'rms' : 'layer',
    normEps: config.normEps,
    rope: config.family === 'llama' ? { theta: config.ropeTheta, layout: config.ropeLayout, scaling: config.ropeScaling?.factor ?? 1 } : null,
    attentionBias: biases.some(([name, layer]) => !isMlp(name) && layer.bias !== undefined),
    mlpBias: biases.some(([name, layer]) => isMlp(name) && layer.bias !== undefined),
    mlp: config.family === 'llama' ? 'glu' : 'plain',
    activation: config.activation === 'gelu' ? 'gelu_erf' : config.activation,
    preNorm: true,
    causal: true,
  };
}

/** Uploads one block's weights into a new TransformerBlock on the device. */
function uploadBlock(device: Device, config: ModelConfig, weights: BlockWeights): TransformerBlock {
  const blockConfig = blockConfigOf(config, weights);
  const block = createDecoderBlock(device, blockConfig);
  const layout = BLOCK_LAYOUTS[config.family];
  const set = (name: string, values: Float32Array) => block.params.set(name, values);
  const setLinear = (nnName: string, weight: Float32Array, bias: Float32Array | undefined, out: number) => {
    set(`${nnName}.weight`, weight);
    const hasBias = nnName.startsWith('attn.') ? blockConfig.attentionBias : blockConfig.mlpBias;
    if (hasBias) set(`${nnName}.bias`, bias ?? new Float32Array(out));
  };

  for (const [hfName, nnName] of nnLinearNames(config)) {
    const layer = weights.linears.get(hfName)!;
    setLinear(nnName, layer.weight, layer.bias, layer.outFeatures);
  }
  if (layout.fusedQkv !== undefined) {
    // GPT-2's c_attn rows are [q; k; v]; nn keeps three projections.
    const fused = weights.linears.get(layout.fusedQkv)!;
    const qRows = config.nHeads * config.headDim;
    const kvRows = config.nKvHeads * config.headDim;
    const rows = (start: number, count: number) => fused.weight.slice(start * config.dim, (start + count) * config.dim);
    const bias = (start: number, count: number) => fused.bias?.slice(start, start + count);
    setLinear('attn.q', rows(0, qRows), bias(0, qRows), qRows);
    setLinear('attn.k', rows(qRows, kvRows), bias(qRows, kvRows), kvRows);
    setLinear('attn.v', rows(qRows + kvRows, kvRows), bias(qRows + kvRows, kvRows), kvRows);
  }

  const norms: [string, string][] = [
    [layout.attentionNorm, 'attn_norm'],
    [layout.mlpNorm, 'mlp_norm'],
  ];
  for (const [hfName, nnName] of norms) {
    const norm = weights.norms.get(hfName)!;
    set(`${nnName}.weight`, norm.weight);
    if (blockConfig.norm === 'layer') set(`${nnName}.bias`, norm.bias ?? new Float32Array(config.dim));
  }
  return block;
}

/** Device-resident blocks of one model, with KV caches of batch 1. */
export class DeviceBlockExecutor {
  private readonly blocks = new Map<number, TransformerBlock>();
  private readonly hookNames: Map<string, string>;
  /** Block forward passes run on the device so far; tests read it to prove a pass did not take the host path. */
  blockRuns = 0;

  constructor(
    readonly device: Device,
    readonly config: ModelConfig,
  ) {
    this.hookNames = hookNamesOf(config);
  }

  /** Drops block i's device copy (after its weights change, or to free memory). */
  release(index: number): void {
    this.blocks.get(index)?.dispose();
    this.blocks.delete(index);
  }

  createCache(capacity: number): LayerKVCache {
    const width = this.config.nKvHeads * this.config.headDim;
    return { k: this.device.zeros([capacity, width]), v: this.device.zeros([capacity, width]), batch: 1, capacity, length: 0 };
  }

  /**
   * Runs block i over `rows` rows of one sequence and reads the result back.
   * `onLinearInput` receives each linear input on the device, and only the block output is read back.
   */
  async run(
    index: number,
    weights: BlockWeights,
    hidden: Float32Array,
    rows: number,
    positions: ArrayLike<number>,
    keyMask: Uint8Array | undefined,
    cache: LayerKVCache | undefined,
    onLinearInput?: DeviceLinearInputHook,
  ): Promise<Float32Array> {
    let block = this.blocks.get(index);
    if (block === undefined) {
      block = uploadBlock(this.device, this.config, weights);
      this.blocks.set(index, block);
    }

    const tensors: Tensor[] = [];
    const track = (tensor: Tensor) => {
      tensors.push(tensor);
      return tensor;
    };
    try {
      const x = track(this.device.tensor(hidden, [rows, this.config.dim]));
      const positionTensor = track(this.device.tensor(Int32Array.from(positions), [rows], 'i32'));
      let maskTensor: Tensor | undefined;
      if (cache !== undefined) {
        // NOTE: padding inside cached positions is not tracked, so every cached key counts as a real token.
        // Generation prompts carry no padding.
        const mask = new Float32Array(cache.capacity);
        mask.fill(1, 0, cache.length + rows);
        maskTensor = track(this.device.tensor(mask, [1, cache.capacity]));
      } else if (keyMask !== undefined) {
        maskTensor = track(this.device.tensor(Float32Array.from(keyMask), [1, rows]));
      }
      const hook = onLinearInput === undefined ? undefined : this.translateHook(onLinearInput);
      const output = track(block.forward(x, { batch: 1, positions: positionTensor, keyMask: maskTensor, cache, onLinearInput: hook }));
      this.blockRuns += 1;
      return Float32Array.from((await output.read()) as Float32Array);
    } finally {
      for (const tensor of tensors) tensor.dispose();
    }
  }

  /** Wraps a hook so it receives the model file's layer names instead of nn's. */
  private translateHook(hook: DeviceLinearInputHook): (name: string, input: Tensor) => void {
    return (nnName, input) => {
      const name = this.hookNames.get(nnName);
      if (name !== undefined) hook(name, input);
    };
  }

  dispose(): void {
    for (const index of [...this.blocks.keys()]) this.release(index);
  }
}
