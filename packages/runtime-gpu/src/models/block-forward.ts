/** The forward pass of one decoder block on the CPU, with a hook on every linear layer's input. */
import { BLOCK_LAYOUTS, type ModelConfig } from './config.js';
import { activate, addInPlace, applyRope, attention, cpuLinear, createLayerCache, layerNorm, rmsNorm, ropeInverseFrequencies, type AttentionKernel, type LayerCache, type LinearKernel } from './ops.js';
import type { BlockWeights, LinearWeights } from './weights.js';

/**
 * Receives the input of one linear layer: `input` is [rows, inFeatures]
 * row-major. Layers that share an input (q/k/v, gate/up) receive the same
 * array, so a hook must not modify it.
 */
export type ModelLinearInputHook = (name: string, input: Float32Array, rows: number) => void;

export interface BlockForwardOptions {
  /** Position of each row (RoPE angle or learned-position index before the offset). */
  positions: ArrayLike<number>;
  /** 1 for a real token, 0 for padding that no other token may attend; defaults to all ones. */
  keyMask?: Uint8Array;
  /** Cache of earlier positions; the rows are appended to it. Without one, the rows are a whole sequence. */
  cache?: LayerCache;
  onLinearInput?: ModelLinearInputHook;
  linear?: LinearKernel;
  attention?: AttentionKernel;
}

/** Runs one block over `rows` rows of hidden states [rows, dim] and returns the new hidden states. */
export async function forwardBlock(config: ModelConfig, block: BlockWeights, hidden: Float32Array, rows: number, options: BlockForwardOptions): Promise<Float32Array> {
  const layout = BLOCK_LAYOUTS[config.family];
  const linear = options.linear ?? cpuLinear;
  const cache = options.cache ?? createLayerCache(config, rows);
  const get = (name: string): LinearWeights => {
    const layer = block.linears.get(name);
    if (layer === undefined) throw new Error(`block is missing linear layer ${name}`);
    return layer;
  };
  const run = async (name: string, input: Float32Array): Promise<Float32Array> => {
    options.onLinearInput?.(name, input, rows);
    return linear(input, rows, get(name));
  };
  const normalize = (name: string, x: Float32Array): Float32Array => {
    const norm = block.norms.get(name);
    if (norm === undefined) throw new Error(`block is missing norm ${name}`);
    return config.family === 'llama' ? rmsNorm(x, rows, norm, config.normEps) : layerNorm(x, rows, norm, config.normEps);
  };

  // Attention.
  const x = Float32Array.from(hidden);
  const attentionInput = normalize(layout.attentionNorm, x);
  const { q, k, v } = await projectQkv(config, attentionInput, rows, run);
  if (config.family === 'llama') {
    const inverse = ropeInverseFrequenciesCached(config);
    applyRope(q, rows, config.nHeads, options.positions, inverse, config);
    applyRope(k, rows, config.nKvHeads, options.positions, inverse, config);
  }
  appendToCache(cache, k, v, rows, options.keyMask, config);
  const attended = await (options.attention ?? attention)(q, rows, cache, config);
  addInPlace(x, await run(layout.output, attended));

  // MLP.
  const mlpInput = normalize(layout.mlpNorm, x);
  if (config.family === 'llama') {
    const gate = await run(layout.gate!, mlpInput);
    const up = await run(layout.up!, mlpInput);
    activate(gate, config.activation);
    for (let i = 0; i < gate.length; i++) gate[i] *= up[i];
    addInPlace(x, await run(layout.down!, gate));
  } else {
    const hiddenActivations = await run(layout.fc1!, mlpInput);
    activate(hiddenActivations, config.activation);
    addInPlace(x, await run(layout.fc2!, hiddenActivations));
  }
  return x;
}

async function projectQkv(
  config: ModelConfig,
  input: Float32Array,
  rows: number,
  run: (name: string, input: Float32Array) => Promise<Float32Array>,
): Promise<{ q: Float32Array; k: Float32Array; v: Float32Array }> {
  const layout = BLOCK_LAYOUTS[config.family];
  if (layout.fusedQkv === undefined) {
    return { q: await run(layout.query!, input), k: await run(layout.key!, input), v: await run(layout.value!, input) };
  }

  // GPT-2's c_attn produces [q; k; v] side by side in each row.
  const fused = await run(layout.fusedQkv, input);
  const qWidth = config.nHeads * config.headDim;
  const kvWidth = config.nKvHeads * config.headDim;
  const width = qWidth + 2 * kvWidth;
  const q = new Float32Array(rows * qWidth);
  const k = new Float32Array(rows * kvWidth);
  const v = new Float32Array(rows * kvWidth);
  for (let r = 0; r < rows; r++) {
    q.set(fused.subarray(r * width, r * width + qWidth), r * qWidth);
    k.set(fused.subarray(r * width + qWidth, r * width + qWidth + kvWidth), r * kvWidth);
    v.set(fused.subarray(r * width + qWidth + kvWidth, (r + 1) * width), r * kvWidth);
  }
  return { q, k, v };
}

function appendToCache(cache: LayerCache, k: Float32Array, v: Float32Array, rows: number, keyMask: Uint8Array | undefined, config: ModelConfig): void {
  const width = config.nKvHeads * config.headDim;
  const capacity = cache.keyMask.length;
  if (cache.length + rows > capacity) {
    throw new RangeError(`KV cache is full: capacity ${capacity} positions, ${cache.length} used, ${rows} more requested; create the cache with a larger capacity`);
  }
  cache.keys.set(k, cache.length * width);
  cache.values.set(v, cache.length * width);
  for (let r = 0; r < rows; r++) cache.keyMask[cache.length + r] = keyMask === undefined ? 1 : keyMask[r];
  cache.length += rows;
}

const inverseCache = new WeakMap<ModelConfig, Float64Array>();

function ropeInverseFrequenciesCached(config: ModelConfig): Float64Array {
  let inverse = inverseCache.get(config);
  if (inverse === undefined) {
    inverse = ropeInverseFrequencies(config);
    inverseCache.set(config, inverse);
  }
  return inverse;
}
