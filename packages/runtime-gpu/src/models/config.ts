/**
 * The normalized description of a decoder-only language model. Every input
 * format (llama2.c, Hugging Face, ONNX) is parsed into this one shape, and the
 * forward pass, saving and export read only this shape.
 */

/**
 * Block structure families:
 * - `llama`: pre-RMSNorm, rotary positions, GQA attention, SwiGLU MLP (Llama, Mistral, Qwen2, llama2.c);
 * - `opt`: pre-LayerNorm, learned positions with an offset of 2, separate q/k/v, ReLU MLP;
 * - `gpt2`: pre-LayerNorm, learned positions, fused c_attn projection, GELU (tanh) MLP.
 */
export type ModelFamily = 'llama' | 'opt' | 'gpt2';

/**
 * Pairing of a head's channels under RoPE. `interleaved` rotates (2i, 2i+1)
 * as llama2.c and Meta's original code do, and `half` rotates (i, i + headDim/2)
 * as Hugging Face's `rotate_half` does.
 */
export type { RopeLayout } from '../nn/reference.js';
import type { RopeLayout } from '../nn/reference.js';

export type Activation = 'silu' | 'relu' | 'gelu' | 'gelu_tanh';

export interface RopeScaling {
  type: 'linear' | 'llama3';
  factor: number;
  /** llama3 only: wavelength band limits, as in HF's `rope_scaling`. */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

export interface ModelConfig {
  family: ModelFamily;
  /** Source architecture name, e.g. "LlamaForCausalLM" or "llama2.c". */
  architecture: string;
  dim: number;
  /** Width of the MLP's hidden layer. */
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  vocabSize: number;
  /** Maximum sequence length the position encoding supports. */
  maxSeqLen: number;
  normEps: number;
  activation: Activation;
  /** Whether the output head shares the token-embedding matrix. */
  tiedEmbeddings: boolean;

  /** llama family: rotary embedding parameters. */
  ropeTheta: number;
  ropeLayout: RopeLayout;
  ropeScaling?: RopeScaling;
  /** Keys further back than this many positions are masked (Mistral); undefined means unlimited. */
  slidingWindow?: number;

  /** Learned-position families: index of position 0 in the position table (OPT: 2, GPT-2: 0). */
  positionOffset: number;
}

/** Names of a block's parts, in the naming of the Hugging Face module of that family. */
export interface BlockLayout {
  attentionNorm: string;
  mlpNorm: string;
  /** Separate q/k/v projections, or one fused projection producing [q; k; v]. */
  query?: string;
  key?: string;
  value?: string;
  fusedQkv?: string;
  output: string;
  /** llama family: gate and up projections of SwiGLU. */
  gate?: string;
  up?: string;
  down?: string;
  /** opt/gpt2 families: the two MLP projections. */
  fc1?: string;
  fc2?: string;
  /** Every linear layer in forward order, as pruners see them. */
  linears: string[];
}

export const BLOCK_LAYOUTS: Record<ModelFamily, BlockLayout> = {
  llama: {
    attentionNorm: 'input_layernorm',
    mlpNorm: 'post_attention_layernorm',
    query: 'self_attn.q_proj',
    key: 'self_attn.k_proj',
    value: 'self_attn.v_proj',
    output: 'self_attn.o_proj',
    gate: 'mlp.gate_proj',
    up: 'mlp.up_proj',
    down: 'mlp.down_proj',
    linears: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'],
  },
  opt: {
    attentionNorm: 'self_attn_layer_norm',
    mlpNorm: 'final_layer_norm',
    query: 'self_attn.q_proj',
    key: 'self_attn.k_proj',
    value: 'self_attn.v_proj',
    output: 'self_attn.out_proj',
    fc1: 'fc1',
    fc2: 'fc2',
    linears: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.out_proj', 'fc1', 'fc2'],
  },
  gpt2: {
    attentionNorm: 'ln_1',
    mlpNorm: 'ln_2',
    fusedQkv: 'attn.c_attn',
    output: 'attn.c_proj',
    fc1: 'mlp.c_fc',
    fc2: 'mlp.c_proj',
    linears: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'],
  },
};

/** Shape [out, in] of each linear layer of a block. */
export function linearShapes(config: ModelConfig): Map<string, [number, number]> {
  const { dim, hiddenDim, nHeads, nKvHeads, headDim } = config;
  const layout = BLOCK_LAYOUTS[config.family];
  const shapes = new Map<string, [number, number]>();
  if (layout.fusedQkv !== undefined) {
    shapes.set(layout.fusedQkv, [(nHeads + 2 * nKvHeads) * headDim, dim]);
  } else {
    shapes.set(layout.query!, [nHeads * headDim, dim]);
    shapes.set(layout.key!, [nKvHeads * headDim, dim]);
    shapes.set(layout.value!, [nKvHeads * headDim, dim]);
  }
  shapes.set(layout.output, [dim, nHeads * headDim]);
  if (config.family === 'llama') {
    shapes.set(layout.gate!, [hiddenDim, dim]);
    shapes.set(layout.up!, [hiddenDim, dim]);
    shapes.set(layout.down!, [dim, hiddenDim]);
  } else {
    shapes.set(layout.fc1!, [hiddenDim, dim]);
    shapes.set(layout.fc2!, [dim, hiddenDim]);
  }
  return shapes;
}

/** Returns whether a family's norms are LayerNorm (weight and bias) rather than RMSNorm (weight only). */
export function usesLayerNorm(family: ModelFamily): boolean {
  return family !== 'llama';
}
