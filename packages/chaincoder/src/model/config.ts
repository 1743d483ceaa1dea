/**
 * Size settings of the ChainCoder model. The miniature trains on a CPU; the
 * reference configuration reproduces the published defaults for a GPU.
 */
import { UsageError } from '@sculpt/core';

export interface ChainCoderConfig {
  /** Width of every stack (the reference uses 768 for the encoders and 512 for the decoder; one width here). */
  dim: number;
  heads: number;
  /** Inner size of the ReLU feed-forward layers. */
  hiddenDim: number;
  sampleEmbedderLayers: number;
  descriptionLayers: number;
  encoderLayers: number;
  decoderLayers: number;
  /** Input (I/O token) vocabulary size. */
  inputVocab: number;
  /** Output (program token) vocabulary size; its embedding is tied to the output projection. */
  outputVocab: number;
  /** Description vocabulary size (compact subword ids, see the batch builder). */
  descriptionVocab: number;
  maxSamples: number;
  maxDescriptionLength: number;
  /** Maximum I/O token sequence length after alignment. */
  maxIoLength: number;
  /** Maximum decoder target length, BOS and EOS included. */
  maxTargetLength: number;
  /** LayerNorm epsilon; 1e-12 as in the reference. */
  normEps: number;
  /** Post-LN as in the reference; pre-LN is more stable for deep stacks. */
  preNorm: boolean;
}

/** Returns the miniature: d = 128, 4 heads, FFN 512, 1 sample-embedder layer, 2 description and 2 encoder layers, 4 decoder layers. */
export function miniatureConfig(vocabularies: { inputVocab: number; outputVocab: number; descriptionVocab: number }): ChainCoderConfig {
  return {
    dim: 128,
    heads: 4,
    hiddenDim: 512,
    sampleEmbedderLayers: 1,
    descriptionLayers: 2,
    encoderLayers: 2,
    decoderLayers: 4,
    maxSamples: 8,
    maxDescriptionLength: 128,
    maxIoLength: 256,
    maxTargetLength: 512,
    normEps: 1e-12,
    preNorm: false,
    ...vocabularies,
  };
}

/** Returns the reference sizes at one width: the reference decoder is 512 wide with 224 layers, and this keeps 768 everywhere. */
export function referenceConfig(vocabularies: { inputVocab: number; outputVocab: number; descriptionVocab: number }): ChainCoderConfig {
  return {
    dim: 768,
    heads: 16,
    hiddenDim: 3072,
    sampleEmbedderLayers: 4,
    descriptionLayers: 4,
    encoderLayers: 4,
    decoderLayers: 224,
    maxSamples: 32,
    maxDescriptionLength: 512,
    maxIoLength: 4096,
    maxTargetLength: 4096,
    normEps: 1e-12,
    preNorm: false,
    ...vocabularies,
  };
}

export function checkConfig(config: ChainCoderConfig): void {
  for (const [name, value] of Object.entries(config)) {
    if (typeof value === 'number' && (!Number.isInteger(value) || value <= 0) && name !== 'normEps') {
      throw new UsageError(`ChainCoder config: ${name} must be a positive integer, got ${value}.`);
    }
  }
  if (config.dim % config.heads !== 0) throw new UsageError(`ChainCoder config: dim ${config.dim} is not divisible by heads ${config.heads}.`);
}
