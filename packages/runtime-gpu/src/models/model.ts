/**
 * A loaded decoder-only language model and the block-by-block API that the
 * pruners build on.
 *
 * Block-by-block contract (the layer-by-layer sequential loop of Wanda and SparseGPT):
 *
 *   const runner = new BlockRunner(model);
 *   let inputs = await runner.captureInputs(samples);          // block 0's inputs: embeddings
 *   for (let i = 0; i < model.config.nLayers; i++) {
 *     const block = await model.block(i);                      // loads block i only
 *     await runner.forwardBlock(i, inputs, { onLinearInput });  // statistics pass, hooks on every linear input
 *     for (const layer of block.linearLayers()) layer.setWeight(prune(layer.getWeight()));
 *     inputs = await runner.forwardBlock(i, inputs);           // re-run the pruned block
 *     model.release(i);                                         // drop it unless modified
 *   }
 *   await model.save(outPath);
 *
 * Weights are float32 [out, in] row-major matrices whatever the file stores,
 * including GPT-2's Conv1D [in, out], ONNX's pre-transposed MatMul initializers
 * and F16 or BF16 data. Saving converts them back to the file's layout and dtype.
 *
 * Residency: block weights are read from the file when first requested and
 * kept until `release(i)`. It drops unmodified blocks and moves modified ones
 * to a spill file in a temporary folder (block-spill.ts), from which the next
 * use reads them back, so a pruning run holds one block at a time. Layer
 * objects from before a release no longer reach the block. Embedding, final
 * norm and head stay loaded. `close()` removes the spill files.
 */
import { getLogger, InputError } from '@sculpt/core';
import type { Device } from '../device.js';
import type { LayerKVCache } from '../nn/modules/block.js';
import { DeviceBlockExecutor, type DeviceLinearInputHook } from './device-runner.js';
import { forwardBlock, type ModelLinearInputHook } from './block-forward.js';
import { BlockSpill } from './block-spill.js';
import { BLOCK_LAYOUTS, linearShapes, type ModelConfig } from './config.js';
import { createLayerCache, layerNorm, rmsNorm, type AttentionKernel, type LayerCache, type LinearKernel } from './ops.js';
import { createOrtAttention, createOrtLinear } from './ort-kernels.js';
import { blockTensors, findNonFinite, type BlockWeights, type LinearWeights, type TopWeights } from './weights.js';

const log = getLogger('runtime-gpu:models');

export type ModelFormat = 'llama2c' | 'hf' | 'onnx';

export interface SaveOptions {
  /** Replace an existing output, including the input model itself. */
  force?: boolean;
}

/** Origin of a model's block weights, and the writer for the model's own format. */
export interface ModelSource {
  format: ModelFormat;
  /** Path the model was loaded from. */
  path: string;
  loadBlock(index: number): Promise<BlockWeights>;
  /** Writes the model in the source's format, keeping its tensor names, dtypes and file layout. */
  save(model: CausalLM, outPath: string, options: SaveOptions): Promise<void>;
  close?(): Promise<void>;
}

/** One linear layer of a block, seen as an [out, in] float32 matrix. */
export interface ModelLinearLayer {
  /** Hugging Face module name inside the block, e.g. "self_attn.q_proj". */
  name: string;
  outFeatures: number;
  inFeatures: number;
  /** Returns the live [out, in] weight matrix; call `setWeight` after changing it so saving picks it up. */
  getWeight(): Float32Array;
  /** Replaces the weight matrix (length out·in) and marks the block modified. */
  setWeight(weight: Float32Array): void;
  bias?: Float32Array;
}

/** A loaded decoder block. */
export interface DecoderBlock {
  index: number;
  weights: BlockWeights;
  /** Every linear layer in forward order (q, k, v, o, gate, up, down for Llama). */
  linearLayers(): ModelLinearLayer[];
}

/** KV cache of one block: host arrays, or device tensors when the model runs on a device. */
export type ModelCache = LayerCache | LayerKVCache;

/** Returns whether a cache lives on a device (nn's LayerKVCache) rather than in host arrays. */
export function isDeviceCache(cache: ModelCache): cache is LayerKVCache {
  return 'capacity' in cache;
}

export class CausalLM {
  private readonly loaded = new Map<number, BlockWeights>();
  private executor: DeviceBlockExecutor | undefined;
  private readonly modified = new Set<number>();
  private readonly spill = new BlockSpill();
  /** Matrix-product kernel used by every forward pass; swap in a device kernel here. */
  linear: LinearKernel = sharedOrtKernels().linear;
  /** Attention kernel of the host path. */
  attention: AttentionKernel = sharedOrtKernels().attention;

  constructor(
    readonly config: ModelConfig,
    readonly top: TopWeights,
    readonly source: ModelSource,
  ) {}

  /** Returns block i, reading it from the source on first use. */
  async block(index: number): Promise<DecoderBlock> {
    const weights = await this.blockWeights(index);
    return {
      index,
      weights,
      linearLayers: () => this.linearLayers(index, weights),
    };
  }

  async blockWeights(index: number): Promise<BlockWeights> {
    if (!Number.isInteger(index) || index < 0 || index >= this.config.nLayers) {
      throw new RangeError(`block index ${index} is out of range 0..${this.config.nLayers - 1}`);
    }
    let weights = this.loaded.get(index);
    if (weights === undefined) {
      weights = await this.source.loadBlock(index);
      if (this.spill.has(index)) this.spill.restore(index, weights);
      checkBlockShapes(this.config, weights, index, this.source.path);
      warnNonFinite(blockTensors(weights), `block ${index}`, this.source.path);
      this.loaded.set(index, weights);
    }
    return weights;
  }

  /** Drops block i from memory and from the device; a changed block is written to its spill file first. */
  release(index: number): void {
    this.executor?.release(index);
    const weights = this.loaded.get(index);
    if (weights === undefined) return;
    if (this.modified.has(index)) {
      try {
        this.spill.write(index, weights);
      } catch (error) {
        // A full or read-only temporary folder costs memory, not the pruned weights.
        log.warn(`could not spill block ${index} to the temporary folder (${(error as Error).message}); keeping it in memory`);
        return;
      }
    }
    this.loaded.delete(index);
  }

  /**
   * Runs forward passes and generation on `device` from now on, uploading each
   * block when it first runs. Calls with host linear-input hooks
   * (`onLinearInput`) still take the host path; `onDeviceLinearInput` is the
   * hook of the device path.
   */
  useDevice(device: Device): void {
    this.executor?.dispose();
    this.executor = new DeviceBlockExecutor(device, this.config);
  }

  /** The device blocks run on, or undefined for the host path. */
  get device(): Device | undefined {
    return this.executor?.device;
  }

  /** Block forward passes that ran on the device since `useDevice` (0 on the host path). */
  get deviceBlockRuns(): number {
    return this.executor?.blockRuns ?? 0;
  }

  /** Returns whether block i has weights that differ from the file. */
  isModified(index: number): boolean {
    return this.modified.has(index);
  }

  markModified(index: number): void {
    this.modified.add(index);
  }

  private linearLayers(index: number, weights: BlockWeights): ModelLinearLayer[] {
    return BLOCK_LAYOUTS[this.config.family].linears.map((name) => {
      const layer = weights.linears.get(name)!;
      return {
        name,
        outFeatures: layer.outFeatures,
        inFeatures: layer.inFeatures,
        bias: layer.bias,
        getWeight: () => layer.weight,
        setWeight: (weight: Float32Array) => {
          if (weight.length !== layer.outFeatures * layer.inFeatures) {
            throw new RangeError(`${name}: weight has ${weight.length} values; expected ${layer.outFeatures}×${layer.inFeatures}`);
          }
          layer.weight = weight;
          this.modified.add(index);
          this.executor?.release(index);
        },
      };
    });
  }

  /** Token (and learned position) embeddings of one sequence: [tokens.length, dim]. */
  embed(tokens: ArrayLike<number>, positions: ArrayLike<number>): Float32Array {
    const { dim, vocabSize } = this.config;
    const out = new Float32Array(tokens.length * dim);
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t];
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
        throw new RangeError(`token id ${token} at position ${t} is outside the vocabulary 0..${vocabSize - 1}`);
      }
      out.set(this.top.embedding.subarray(token * dim, (token + 1) * dim), t * dim);
      if (this.top.positions !== undefined) {
        const row = positions[t] + this.config.positionOffset;
        if (row * dim >= this.top.positions.length) {
          throw new RangeError(`position ${positions[t]} exceeds the model's ${this.config.maxSeqLen} learned positions`);
        }
        for (let i = 0; i < dim; i++) out[t * dim + i] += this.top.positions[row * dim + i];
      }
    }
    return out;
  }

  /** Final norm and output head: [rows, dim] hidden states to [rows, vocab] logits. */
  async logits(hidden: Float32Array, rows: number): Promise<Float32Array> {
    const { config, top } = this;
    const normalized = config.family === 'llama' ? rmsNorm(hidden, rows, top.finalNorm, config.normEps) : layerNorm(hidden, rows, top.finalNorm, config.normEps);
    const head: LinearWeights = { outFeatures: config.vocabSize, inFeatures: config.dim, weight: top.head, bias: top.headBias };
    return this.linear(normalized, rows, head);
  }

  /**
   * Runs block i; see `forwardBlock` for the options. `onDeviceLinearInput`
   * needs a device (`useDevice`) and receives each linear input as a device tensor.
   */
  async runBlock(
    index: number,
    hidden: Float32Array,
    rows: number,
    positions: ArrayLike<number>,
    options: { keyMask?: Uint8Array; cache?: ModelCache; onLinearInput?: ModelLinearInputHook; onDeviceLinearInput?: DeviceLinearInputHook } = {},
  ): Promise<Float32Array> {
    const weights = await this.blockWeights(index);
    const { cache, onDeviceLinearInput, ...rest } = options;
    if (onDeviceLinearInput !== undefined) {
      if (this.executor === undefined) throw new Error('onDeviceLinearInput needs a device; call model.useDevice(device) first');
      if (options.onLinearInput !== undefined) throw new Error('pass either onLinearInput or onDeviceLinearInput, not both');
      if (cache !== undefined) throw new Error('onDeviceLinearInput runs whole sequences; it takes no KV cache');
      return this.executor.run(index, weights, hidden, rows, positions, options.keyMask, undefined, onDeviceLinearInput);
    }
    if (cache !== undefined && isDeviceCache(cache)) {
      if (this.executor === undefined) throw new Error('a device KV cache was passed but the model runs on the host; create caches with model.createCache');
      return this.executor.run(index, weights, hidden, rows, positions, options.keyMask, cache);
    }
    if (this.executor !== undefined && cache === undefined && options.onLinearInput === undefined) {
      return this.executor.run(index, weights, hidden, rows, positions, options.keyMask, undefined);
    }
    return forwardBlock(this.config, weights, hidden, rows, { positions, linear: this.linear, attention: this.attention, ...rest, cache });
  }

  /** Full forward pass of one sequence; returns logits [tokens.length, vocab]. */
  async forward(tokens: ArrayLike<number>, options: { keyMask?: Uint8Array } = {}): Promise<Float32Array> {
    const positions = Array.from({ length: tokens.length }, (_, t) => t);
    let hidden = this.embed(tokens, positions);
    for (let i = 0; i < this.config.nLayers; i++) {
      hidden = await this.runBlock(i, hidden, tokens.length, positions, { keyMask: options.keyMask });
    }
    return this.logits(hidden, tokens.length);
  }

  /** Loads every block (for generation, saving and export). */
  async loadAll(): Promise<BlockWeights[]> {
    const blocks: BlockWeights[] = [];
    for (let i = 0; i < this.config.nLayers; i++) blocks.push(await this.blockWeights(i));
    return blocks;
  }

  /** Creates an empty KV cache for every block, holding up to `capacity` positions, on the model's device when it has one. */
  createCache(capacity: number): ModelCache[] {
    const executor = this.executor;
    if (executor !== undefined) return Array.from({ length: this.config.nLayers }, () => executor.createCache(capacity));
    return Array.from({ length: this.config.nLayers }, () => createLayerCache(this.config, capacity));
  }

  /** Writes the model in its input format; see the source's `save`. */
  async save(outPath: string, options: SaveOptions = {}): Promise<void> {
    await this.source.save(this, outPath, options);
  }

  async close(): Promise<void> {
    this.executor?.dispose();
    this.executor = undefined;
    this.spill.dispose();
    await this.source.close?.();
  }
}

let ortKernels: { linear: LinearKernel; attention: AttentionKernel } | undefined;

/** Returns the process-wide onnxruntime-backed kernels, whose sessions are compiled once and shared by every model. */
function sharedOrtKernels(): { linear: LinearKernel; attention: AttentionKernel } {
  ortKernels ??= { linear: createOrtLinear(), attention: createOrtAttention() };
  return ortKernels;
}

/** Hidden states entering a block for one calibration sample. */
export interface BlockInputs {
  hidden: Float32Array;
  rows: number;
  positions: Int32Array;
  keyMask: Uint8Array;
}

export interface CalibrationSample {
  tokens: ArrayLike<number>;
  /** 1 for real tokens, 0 for padding; defaults to all ones. */
  mask?: Uint8Array;
}

/**
 * Runs a model one block at a time over a calibration batch. Positions are
 * 0..L−1 for every sample, padding or not, as the reference pruning code does.
 */
export class BlockRunner {
  constructor(readonly model: CausalLM) {}

  /** Returns block 0's inputs (the embedding output) for every sample. */
  async captureInputs(samples: CalibrationSample[]): Promise<BlockInputs[]> {
    return samples.map((sample) => {
      const rows = sample.tokens.length;
      const positions = Int32Array.from({ length: rows }, (_, t) => t);
      const keyMask = sample.mask ?? new Uint8Array(rows).fill(1);
      if (keyMask.length !== rows) throw new RangeError(`mask has ${keyMask.length} entries for ${rows} tokens`);
      return { hidden: this.model.embed(sample.tokens, positions), rows, positions, keyMask };
    });
  }

  /**
   * Runs block i on every sample and returns its outputs (block i+1's inputs).
   * `onLinearInput` receives each linear layer's input with the sample index.
   */
  async forwardBlock(index: number, inputs: BlockInputs[], options: { onLinearInput?: (name: string, input: Float32Array, rows: number, sample: number) => void } = {}): Promise<BlockInputs[]> {
    const outputs: BlockInputs[] = [];
    for (let s = 0; s < inputs.length; s++) {
      const input = inputs[s];
      const hook = options.onLinearInput;
      const hidden = await this.model.runBlock(index, input.hidden, input.rows, input.positions, {
        keyMask: input.keyMask,
        onLinearInput: hook === undefined ? undefined : (name, x, rows) => hook(name, x, rows, s),
      });
      outputs.push({ ...input, hidden });
    }
    return outputs;
  }

  /** Final norm and head over block outputs: logits per sample. */
  async logits(inputs: BlockInputs[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const input of inputs) out.push(await this.model.logits(input.hidden, input.rows));
    return out;
  }
}

/** Checks every linear and norm of a block against the config's shapes. */
export function checkBlockShapes(config: ModelConfig, block: BlockWeights, index: number, file: string): void {
  for (const [name, [out, inFeatures]] of linearShapes(config)) {
    const layer = block.linears.get(name);
    if (layer === undefined) throw new InputError(`block ${index} is missing linear layer ${name}`, file);
    if (layer.outFeatures !== out || layer.inFeatures !== inFeatures || layer.weight.length !== out * inFeatures) {
      throw new InputError(`block ${index} ${name} is ${layer.outFeatures}×${layer.inFeatures}; the config implies ${out}×${inFeatures}`, file);
    }
  }
  const layout = BLOCK_LAYOUTS[config.family];
  for (const name of [layout.attentionNorm, layout.mlpNorm]) {
    const norm = block.norms.get(name);
    if (norm === undefined || norm.weight.length !== config.dim) {
      throw new InputError(`block ${index} norm ${name} has ${norm?.weight.length ?? 0} weights; the config implies ${config.dim}`, file);
    }
  }
}

/** Logs a warning naming each tensor that contains NaN or infinity. */
export function warnNonFinite(named: Iterable<[string, Float32Array | undefined]>, where: string, file: string): string[] {
  const bad = findNonFinite(named);
  if (bad.length > 0) {
    log.warn(`${file}: ${where} has NaN or infinite values in ${bad.join(', ')}; outputs that depend on them will be NaN`);
  }
  return bad;
}
