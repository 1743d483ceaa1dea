/**
 * Configuration of a transformer block, wide enough for llama2.c, HF Llama,
 * GPT-2 and OPT checkpoints and for ChainCoder's encoder/decoder.
 */
import type { ActivationName, RopeLayout } from '../reference.js';

export interface RopeSettings {
  /** Base of the rotary frequencies (10000 for Llama 2). */
  theta: number;
  /** `interleaved` for llama2.c checkpoints, `half` for HF Llama. */
  layout: RopeLayout;
  /** Linear position interpolation factor; 1 for none. */
  scaling?: number;
}

export interface BlockConfig {
  dim: number;
  heads: number;
  /** Key/value heads; fewer than `heads` for grouped-query attention. */
  kvHeads: number;
  /** Defaults to dim / heads. */
  headDim?: number;
  /** Inner size of the MLP. */
  hiddenDim: number;
  norm: 'rms' | 'layer';
  normEps: number;
  /** Rotary encoding inside attention; null when positions are added to the embeddings (GPT/OPT). */
  rope: RopeSettings | null;
  /** Biases on the q, k, v and output projections. */
  attentionBias: boolean;
  /** Biases on the MLP projections. */
  mlpBias: boolean;
  /** `glu`: down(act(gate(x)) ⊙ up(x)) as Llama; `plain`: down(act(up(x))) as GPT/OPT. */
  mlp: 'glu' | 'plain';
  activation: ActivationName;
  /** Normalize before each sublayer (Llama, GPT-2); false normalizes after the residual add (OPT-350m, original Transformer). */
  preNorm: boolean;
  /** Causal self-attention (decoders) or bidirectional (encoders). */
  causal: boolean;
}

export function headDimOf(config: BlockConfig): number {
  return config.headDim ?? config.dim / config.heads;
}

/** Llama-style block: RMSNorm, GQA attention with RoPE, SwiGLU MLP, no biases. */
export function llamaBlockConfig(options: {
  dim: number;
  heads: number;
  kvHeads?: number;
  hiddenDim: number;
  normEps?: number;
  ropeTheta?: number;
  ropeLayout?: RopeLayout;
  ropeScaling?: number;
}): BlockConfig {
  return {
    dim: options.dim,
    heads: options.heads,
    kvHeads: options.kvHeads ?? options.heads,
    hiddenDim: options.hiddenDim,
    norm: 'rms',
    normEps: options.normEps ?? 1e-5,
    rope: { theta: options.ropeTheta ?? 10000, layout: options.ropeLayout ?? 'half', scaling: options.ropeScaling ?? 1 },
    attentionBias: false,
    mlpBias: false,
    mlp: 'glu',
    activation: 'silu',
    preNorm: true,
    causal: true,
  };
}

/** GPT-2/OPT-style block: LayerNorm, learned positions outside the block, GELU or ReLU MLP, biases. */
export function gptBlockConfig(options: {
  dim: number;
  heads: number;
  hiddenDim: number;
  normEps?: number;
  activation?: ActivationName;
  preNorm?: boolean;
  causal?: boolean;
}): BlockConfig {
  return {
    dim: options.dim,
    heads: options.heads,
    kvHeads: options.heads,
    hiddenDim: options.hiddenDim,
    norm: 'layer',
    normEps: options.normEps ?? 1e-5,
    rope: null,
    attentionBias: true,
    mlpBias: true,
    mlp: 'plain',
    activation: options.activation ?? 'gelu_tanh',
    preNorm: options.preNorm ?? true,
    causal: options.causal ?? true,
  };
}
