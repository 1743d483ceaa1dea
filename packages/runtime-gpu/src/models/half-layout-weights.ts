/**
 * Block weights in the half-split RoPE layout, the layout both exporters
 * write (Hugging Face folders and ONNX graphs). Only the q and k projections
 * of Llama-family models stored in the interleaved layout (llama2.c) change.
 */
import type { ModelConfig } from './config.js';
import { interleavedToHalf } from './rope-layout.js';
import type { BlockWeights } from './weights.js';

/** Lists the projections whose output rows carry rotary channels, with the head count of each. */
function rotaryProjections(config: ModelConfig): readonly (readonly [string, number])[] {
  return [
    ['self_attn.q_proj', config.nHeads],
    ['self_attn.k_proj', config.nKvHeads],
  ];
}

/** Returns the block with its q/k rows permuted to the half-split layout, or the block itself when no permutation is needed. */
export function blockWeightsInHalfLayout(config: ModelConfig, block: BlockWeights): BlockWeights {
  if (config.family !== 'llama' || config.ropeLayout !== 'interleaved') return block;
  const linears = new Map(block.linears);
  for (const [name, heads] of rotaryProjections(config)) {
    const layer = linears.get(name)!;
    linears.set(name, {
      ...layer,
      weight: interleavedToHalf(layer.weight, heads, config.headDim, layer.inFeatures),
      bias: layer.bias === undefined ? undefined : interleavedToHalf(layer.bias, heads, config.headDim, 1),
    });
  }
  return { ...block, linears };
}
