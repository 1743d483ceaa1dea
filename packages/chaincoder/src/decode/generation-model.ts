/**
 * Incremental decoding for ChainCoder: the encoder runs once per problem, and
 * the decoder advances all candidate rows one token per step with a KV cache
 * per block. Implements core's DecodingModel, so every decoder plugin
 * (greedy, sample, beam, constrained) can drive it.
 */
import type { DecodingModel, Logits } from '@sculpt/core';
import { UsageError } from '@sculpt/core';
import { nn as F, noGrad, scope, type LayerKVCache, type Tensor } from '@sculpt/runtime-gpu';
import type { ChainCoderModel } from '../model/model.js';

export interface GenerationState {
  caches: LayerKVCache[];
  /** Encoder output repeated per row: [rows·M, d]. */
  memory: Tensor;
  /** [rows, M]: 1 for real encoder positions. */
  memoryMask: Tensor;
  rows: number;
  /** Tokens already in the cache (all rows advance together). */
  length: number;
  capacity: number;
}

export class ChainCoderDecodingModel implements DecodingModel<GenerationState> {
  readonly vocabSize: number;

  /**
   * `encoded` is the encoder output [M, d] of one problem (a batch of one
   * instance), and `ioLength` is its real I/O length. `capacity` bounds the
   * prompt plus the generated tokens.
   */
  constructor(
    readonly model: ChainCoderModel,
    readonly encoded: Tensor,
    readonly ioLength: number,
    readonly capacity: number,
  ) {
    this.vocabSize = model.config.outputVocab;
    if (capacity > model.config.maxTargetLength) {
      throw new UsageError(`Generation capacity ${capacity} exceeds the model's maxTargetLength ${model.config.maxTargetLength}.`);
    }
  }

  get #memoryLength(): number {
    return this.encoded.shape[0];
  }

  async start(prompts: readonly (readonly number[])[]): Promise<{ state: GenerationState; logits: Logits[] }> {
    const length = prompts[0]?.length ?? 0;
    if (length === 0 || prompts.some((prompt) => prompt.length !== length)) {
      throw new UsageError('ChainCoder generation needs non-empty prompts of equal length (usually [BOS]).');
    }
    const device = this.model.device;
    const rows = prompts.length;
    const M = this.#memoryLength;
    const state = noGrad(() => {
      const rowsIndex = device.tensor(Array.from({ length: rows * M }, (_, index) => index % M), [rows * M], 'i32');
      const memory = F.embedding(this.encoded, rowsIndex);
      rowsIndex.dispose();
      const maskData = new Float32Array(rows * M);
      for (let row = 0; row < rows; row++) maskData.fill(1, row * M, row * M + this.model.descriptionVectors + this.ioLength);
      return {
        caches: this.model.decoderBlocks.map((block) => block.createCache(rows, this.capacity)),
        memory,
        memoryMask: device.tensor(maskData, [rows, M], 'f32'),
        rows,
        length: 0,
        capacity: this.capacity,
      };
    });
    return { state, logits: await this.#advance(state, prompts.flat(), length) };
  }

  step(state: GenerationState, tokens: readonly number[]): Promise<Logits[]> {
    return this.#advance(state, [...tokens], 1);
  }

  /** Runs `count` new tokens per row through the decoder and returns each row's next-token logits. */
  async #advance(state: GenerationState, tokens: number[], count: number): Promise<Logits[]> {
    if (state.length + count > state.capacity) {
      throw new UsageError(`Generation ran past its capacity of ${state.capacity} tokens; lower maxNewTokens.`);
    }
    const device = this.model.device;
    const { rows } = state;
    const logits = noGrad(() =>
      scope(() => {
        const ids = device.tensor(tokens, [rows * count], 'i32');
        const positions = device.tensor(Array.from({ length: rows * count }, (_, index) => state.length + (index % count)), [rows * count], 'i32');
        const table = this.model.params.get('output_embed.weight');
        let x = F.add(F.embedding(table, ids), F.embedding(this.model.params.get('decoder_position.weight'), positions));
        x = F.layerNorm(x, this.model.params.get('decoder_norm.weight'), this.model.params.get('decoder_norm.bias'), this.model.config.normEps);
        const keyMask = device.tensor(new Float32Array(rows * state.capacity).fill(1), [rows, state.capacity], 'f32');
        this.model.decoderBlocks.forEach((block, index) => {
          x = block.forward(x, { batch: rows, keyMask, cache: state.caches[index], memory: state.memory, memoryMask: state.memoryMask });
        });
        const last = count === 1 ? x : F.embedding(x, device.tensor(Array.from({ length: rows }, (_, row) => row * count + count - 1), [rows], 'i32'));
        return F.linear(last, table);
      }),
    );
    state.length += count;
    const values = Float32Array.from(await logits.read());
    logits.dispose();
    const vocab = this.vocabSize;
    return Array.from({ length: rows }, (_, row) => values.slice(row * vocab, (row + 1) * vocab));
  }

  reorder(state: GenerationState, indices: readonly number[]): GenerationState {
    const device = this.model.device;
    const M = this.#memoryLength;
    return noGrad(() => {
      const gather = (table: Tensor, groups: number): Tensor => {
        const index = device.tensor(indices.flatMap((row) => Array.from({ length: groups }, (_, offset) => row * groups + offset)), [indices.length * groups], 'i32');
        const result = F.embedding(table, index);
        index.dispose();
        return result;
      };
      const caches = state.caches.map((cache) => ({
        k: gather(cache.k, cache.capacity),
        v: gather(cache.v, cache.capacity),
        batch: indices.length,
        capacity: cache.capacity,
        length: cache.length,
      }));
      const next: GenerationState = {
        caches,
        memory: gather(state.memory, M),
        memoryMask: gather(state.memoryMask, 1),
        rows: indices.length,
        length: state.length,
        capacity: state.capacity,
      };
      this.dispose(state);
      return next;
    });
  }

  dispose(state: GenerationState): void {
    for (const cache of state.caches) {
      cache.k.dispose();
      cache.v.dispose();
    }
    state.memory.dispose();
    state.memoryMask.dispose();
  }
}
