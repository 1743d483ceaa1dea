/**
 * A decoder-only language model assembled from TransformerBlocks: token
 * embedding (plus learned positions for GPT/OPT-style configs), the blocks, a
 * final norm and an output head that may share the embedding matrix. Used by
 * tests, benchmarks and small trained models; checkpoint loaders build their
 * own model around the blocks.
 */
import type { Random } from '@sculpt/core';
import type { Device } from '../../device.js';
import { ShapeError } from '../../errors.js';
import { scope } from '../../scope.js';
import type { Tensor } from '../../tensor.js';
import * as F from '../functional.js';
import { createDecoderBlock, type BlockContext, type LayerKVCache, type TransformerBlock } from './block.js';
import type { BlockConfig } from './config.js';
import { ParameterStore } from './parameters.js';

export interface LanguageModelConfig {
  vocab: number;
  layers: number;
  block: BlockConfig;
  /** Maximum sequence length; sizes the learned position table when the block has no RoPE. */
  maxSeqLen: number;
  /** Output head reuses the token embedding matrix. */
  tiedEmbeddings: boolean;
}

export class TransformerLM {
  readonly params: ParameterStore;
  readonly blocks: TransformerBlock[];

  constructor(
    readonly device: Device,
    readonly config: LanguageModelConfig,
    random?: Random,
  ) {
    const { vocab, block, maxSeqLen } = config;
    this.params = new ParameterStore(device);
    const init = (std: number) => (random ? { std, random } : { value: 0 });
    this.params.create('embed.weight', [vocab, block.dim], init(0.02));
    if (block.rope === null) this.params.create('position.weight', [maxSeqLen, block.dim], init(0.01));
    this.params.create('final_norm.weight', [block.dim], { value: 1 });
    if (block.norm === 'layer') this.params.create('final_norm.bias', [block.dim], { value: 0 });
    if (!config.tiedEmbeddings) this.params.create('head.weight', [vocab, block.dim], init(0.02));
    this.blocks = Array.from({ length: config.layers }, () => createDecoderBlock(device, block, { random }));
  }

  /** Returns every parameter with a unique dotted name (`blocks.0.attn.q.weight`). */
  parameters(): [string, Tensor][] {
    const own = this.params.entries();
    const nested = this.blocks.flatMap((block, i) => block.parameters().map(([name, tensor]): [string, Tensor] => [`blocks.${i}.${name}`, tensor]));
    return [...own, ...nested];
  }

  /**
   * Logits [batch·seq, vocab] for token ids (i32 [batch·seq]) at `positions`
   * (i32 [batch·seq]). `caches` enables incremental decoding, one per block.
   */
  forward(ids: Tensor, positions: Tensor, context: Omit<BlockContext, 'positions' | 'cache'> & { caches?: LayerKVCache[] }): Tensor {
    if (ids.size % context.batch !== 0) throw new ShapeError(`TransformerLM: ${ids.describe()} is not divisible into batch=${context.batch} sequences`);
    return scope(() => {
      let x = F.embedding(this.params.get('embed.weight'), ids);
      if (this.params.has('position.weight')) x = F.add(x, F.embedding(this.params.get('position.weight'), positions));
      const half = context.computeDType === 'f16';
      if (half) x = F.cast(x, 'f16');
      this.blocks.forEach((block, i) => {
        x = block.forward(x, { ...context, positions, cache: context.caches?.[i] });
      });
      // The output layer runs in f32: logits feed a softmax over the whole vocabulary.
      if (half) x = F.cast(x, 'f32');
      const { block } = this.config;
      const normed =
        block.norm === 'rms'
          ? F.rmsNorm(x, this.params.get('final_norm.weight'), block.normEps)
          : F.layerNorm(x, this.params.get('final_norm.weight'), this.params.get('final_norm.bias'), block.normEps);
      const head = this.config.tiedEmbeddings ? this.params.get('embed.weight') : this.params.get('head.weight');
      return F.linear(normed, head);
    });
  }

  /** Mean next-token cross-entropy; targets equal to F.IGNORE_INDEX are skipped. */
  loss(ids: Tensor, positions: Tensor, targets: Tensor, context: Omit<BlockContext, 'positions' | 'cache'>): Tensor {
    return scope(() => F.crossEntropy(this.forward(ids, positions, context), targets));
  }

  dispose(): void {
    this.params.dispose();
    for (const block of this.blocks) block.dispose();
  }
}
