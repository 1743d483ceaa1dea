/**
 * The model side of core's decoder plugins (greedy, sampling, beam search):
 * a DecodingModel whose state is one KV cache per sequence.
 */
import type { DecodingModel } from '@sculpt/core';
import type { CausalLM } from './model.js';
import type { LayerCache } from './ops.js';

/** KV caches of every sequence in the batch: `rows[r][layer]`. */
export interface KvState {
  rows: LayerCache[][];
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

function cloneCache(cache: LayerCache): LayerCache {
  return { keys: cache.keys.slice(), values: cache.values.slice(), keyMask: cache.keyMask.slice(), length: cache.length };
}

/** Adapts a CausalLM to core's DecodingModel; every block stays loaded while decoding. */
export class CausalLMDecoder implements DecodingModel<KvState> {
  readonly vocabSize: number;

  constructor(readonly model: CausalLM) {
    this.vocabSize = model.config.vocabSize;
  }

  /** Appends tokens to one sequence's caches and returns the logits of its last token. */
  private async advance(caches: LayerCache[], tokens: readonly number[]): Promise<Float32Array> {
    const { config } = this.model;
    const width = config.nKvHeads * config.headDim;
    const start = caches[0].length;
    for (let i = 0; i < caches.length; i++) caches[i] = ensureCapacity(caches[i], start + tokens.length, config.maxSeqLen, width);

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
    const rows: LayerCache[][] = [];
    const logits: Float32Array[] = [];
    for (const prompt of prompts) {
      if (prompt.length === 0) throw new RangeError('a prompt must contain at least one token (for example BOS)');
      const caches = this.model.createCache(Math.min(this.model.config.maxSeqLen, prompt.length + 64));
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

  reorder(state: KvState, indices: readonly number[]): KvState {
    const used = new Set<number>();
    const rows = indices.map((index) => {
      // The first use of a row takes its caches as they are; repeats get copies.
      if (!used.has(index)) {
        used.add(index);
        return state.rows[index];
      }
      return state.rows[index].map(cloneCache);
    });
    return { rows };
  }

  dispose(state: KvState): void {
    state.rows.length = 0;
  }
}
