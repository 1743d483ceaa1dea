/**
 * The model side of core's decoder plugins (greedy, sampling, beam search):
 * a DecodingModel whose state is one KV cache per sequence.
 */
import type { DecodingModel } from '@sculpt/core';
import { isDeviceCache, type CausalLM, type ModelCache } from './model.js';
import type { LayerCache } from './ops.js';

/** KV caches of every sequence in the batch: `rows[r][layer]`. */
export interface KvState {
  rows: ModelCache[][];
}

/** Grows a layer cache to hold at least `needed` positions, doubling up to `limit`. */
function ensureCapacity(cache: LayerCache, needed: number, limit: number, width: number): LayerCache {
  const capacity = cache.keyMask.length;
  if (needed <= capacity) return cache;
  if (needed > limit) throw new RangeError(`sequence of ${needed} tokens exceeds the model's maximum of ${limit}`);
  const grown = Math.min(limit, Math.max(needed, capacity * 2));
  const keys = new Float32Array(grown * width);
  const values = new Float32Array(grown * width);
  const keyMask = new Uint8Array(grown);
  keys.set(cache.keys.subarray(0, cache.length * width));
  values.set(cache.values.subarray(0, cache.length * width));
  keyMask.set(cache.keyMask.subarray(0, cache.length));
  return { keys, values, keyMask, length: cache.length };
}

async function cloneCache(cache: ModelCache): Promise<ModelCache> {
  if (!isDeviceCache(cache)) return { keys: cache.keys.slice(), values: cache.values.slice(), keyMask: cache.keyMask.slice(), length: cache.length };
  // Device caches are copied through the host: beam search forks rarely compared to steps.
  const device = cache.k.device;
  const k = device.tensor((await cache.k.read()) as Float32Array, cache.k.shape);
  const v = device.tensor((await cache.v.read()) as Float32Array, cache.v.shape);
  return { ...cache, k, v };
}

function disposeCache(cache: ModelCache): void {
  if (!isDeviceCache(cache)) return;
  cache.k.dispose();
  cache.v.dispose();
}

/** Adapts a CausalLM to core's DecodingModel; every block stays loaded while decoding. */
export class CausalLMDecoder implements DecodingModel<KvState> {
  readonly vocabSize: number;

  constructor(readonly model: CausalLM) {
    this.vocabSize = model.config.vocabSize;
  }

  /** Appends tokens to one sequence's caches and returns the logits of its last token. */
  private async advance(caches: ModelCache[], tokens: readonly number[]): Promise<Float32Array> {
    const { config } = this.model;
    const width = config.nKvHeads * config.headDim;
    const start = caches[0].length;
    for (let i = 0; i < caches.length; i++) {
      const cache = caches[i];
      if (isDeviceCache(cache)) {
        if (start + tokens.length > cache.capacity) throw new RangeError(`sequence of ${start + tokens.length} tokens exceeds the model's maximum of ${cache.capacity}`);
      } else {
        caches[i] = ensureCapacity(cache, start + tokens.length, config.maxSeqLen, width);
      }
    }

    const positions = Array.from({ length: tokens.length }, (_, t) => start + t);
    let hidden = this.model.embed(tokens, positions);
    for (let i = 0; i < config.nLayers; i++) {
      hidden = await this.model.runBlock(i, hidden, tokens.length, positions, { cache: caches[i] });
    }
    const last = hidden.subarray((tokens.length - 1) * config.dim, tokens.length * config.dim);
    return this.model.logits(last, 1);
  }

  async start(prompts: readonly (readonly number[])[]): Promise<{ state: KvState; logits: Float32Array[] }> {
    await this.model.loadAll();
    const rows: ModelCache[][] = [];
    const logits: Float32Array[] = [];
    for (const prompt of prompts) {
      if (prompt.length === 0) throw new RangeError('a prompt must contain at least one token (for example BOS)');
      // Device caches cannot grow, so they get the full context up front.
      const capacity = this.model.device === undefined ? Math.min(this.model.config.maxSeqLen, prompt.length + 64) : this.model.config.maxSeqLen;
      const caches = this.model.createCache(capacity);
      logits.push(await this.advance(caches, prompt));
      rows.push(caches);
    }
    return { state: { rows }, logits };
  }

  async step(state: KvState, tokens: readonly number[]): Promise<Float32Array[]> {
    const logits: Float32Array[] = [];
    for (let r = 0; r < state.rows.length; r++) logits.push(await this.advance(state.rows[r], [tokens[r]]));
    return logits;
  }

  async reorder(state: KvState, indices: readonly number[]): Promise<KvState> {
    const used = new Set<number>();
    const rows: ModelCache[][] = [];
    for (const index of indices) {
      // The first use of a row takes its caches as they are; repeats get copies.
      if (!used.has(index)) {
        used.add(index);
        rows.push(state.rows[index]);
      } else {
        rows.push(await Promise.all(state.rows[index].map(cloneCache)));
      }
    }
    for (let index = 0; index < state.rows.length; index++) if (!used.has(index)) state.rows[index].forEach(disposeCache);
    return { rows };
  }

  dispose(state: KvState): void {
    for (const row of state.rows) row.forEach(disposeCache);
    state.rows.length = 0;
  }
}
