/**
 * Size settings of the ChainCoder model. The miniature trains on a CPU; the
 * reference configuration reproduces the published defaults for a GPU.
 */
import { UsageError } from '@sculpt/core';

/**
 * Pooling of the description encoder's output into the vectors prepended to
 * the I/O tokens. `first-last-max-min` is the reference's pooling (the
 * first/CLS row, the last real row, and the element-wise max and min over the
 * real rows). `first-last-mean` is the older pooling (first, last, mean) that
 * checkpoints saved without this field were trained with.
 */
export type DescriptionPooling = 'first-last-mean' | 'first-last-max-min';

export const DESCRIPTION_POOLINGS: readonly DescriptionPooling[] = ['first-last-mean', 'first-last-max-min'];

/** Pooling of a config that has no `descriptionPooling` field (checkpoints written before it existed). */
export const LEGACY_DESCRIPTION_POOLING: DescriptionPooling = 'first-last-mean';

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
  /** Description pooling; absent means `first-last-mean`, so older saved configs load unchanged. */
  descriptionPooling?: DescriptionPooling;
  /**
   * A frozen pretrained description encoder in place of the trainable
   * description stack. Absent means the trainable stack, as in every config
   * saved before this field existed.
   */
  descriptionEncoder?: OnnxDescriptionEncoderConfig;
}

/**
 * An ONNX text encoder whose pooled hidden states a trainable projection maps
 * to the model width. The hashes tie the weights to the exact encoder and
 * tokenizer files they were trained with.
 */
export interface OnnxDescriptionEncoderConfig {
  kind: 'onnx';
  /** Width of the encoder's hidden states. */
  hidden: number;
  /** SHA-256 (hex) of the ONNX file. */
  modelSha256: string;
  /** SHA-256 (hex) of the tokenizer.json file. */
  tokenizerSha256: string;
  /** Tokens kept per description, special tokens included. */
  maxLength: number;
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
    descriptionPooling: 'first-last-max-min',
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
    descriptionPooling: 'first-last-max-min',
    ...vocabularies,
  };
}

export function checkConfig(config: ChainCoderConfig): void {
  for (const [name, value] of Object.entries(config)) {
    if (typeof value === 'number' && (!Number.isInteger(value) || value <= 0) && name !== 'normEps') {
      throw new UsageError(`ChainCoder config: ${name} must be a positive integer, got ${value}.`);
    }
  }
  if (config.descriptionPooling !== undefined && !DESCRIPTION_POOLINGS.includes(config.descriptionPooling)) {
    throw new UsageError(`ChainCoder config: descriptionPooling must be one of ${DESCRIPTION_POOLINGS.join(', ')}, got ${JSON.stringify(config.descriptionPooling)}.`);
  }
  if (config.descriptionEncoder !== undefined) checkDescriptionEncoderConfig(config.descriptionEncoder);
  if (config.dim % config.heads !== 0) throw new UsageError(`ChainCoder config: dim ${config.dim} is not divisible by heads ${config.heads}.`);
}

function checkDescriptionEncoderConfig(encoder: OnnxDescriptionEncoderConfig): void {
  const value = JSON.stringify(encoder);
  if (typeof encoder !== 'object' || encoder === null || encoder.kind !== 'onnx') {
    throw new UsageError(`ChainCoder config: descriptionEncoder must be {"kind": "onnx", ...}, got ${value}.`);
  }
  for (const name of ['hidden', 'maxLength'] as const) {
    if (!Number.isInteger(encoder[name]) || encoder[name] <= 0) throw new UsageError(`ChainCoder config: descriptionEncoder.${name} must be a positive integer, got ${value}.`);
  }
  for (const name of ['modelSha256', 'tokenizerSha256'] as const) {
    if (typeof encoder[name] !== 'string' || !/^[0-9a-f]{64}$/u.test(encoder[name])) {
      throw new UsageError(`ChainCoder config: descriptionEncoder.${name} must be a SHA-256 in lowercase hex, got ${value}.`);
    }
  }
}

/** Returns the description pooling of `config`, with the default of configs saved before the field existed. */
export function descriptionPoolingOf(config: ChainCoderConfig): DescriptionPooling {
  return config.descriptionPooling ?? LEGACY_DESCRIPTION_POOLING;
}

/** Returns the number of pooled description vectors that `config` prepends to the I/O tokens. */
export function descriptionVectorCount(config: ChainCoderConfig): number {
  return descriptionPoolingOf(config) === 'first-last-mean' ? 3 : 4;
}
