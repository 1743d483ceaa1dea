/**
 * Opens the ONNX description encoder that a saved model was trained with and
 * checks that the files are the same ones: their SHA-256 must equal the
 * hashes in the model's config, and the hidden size must match. The config's
 * token limit is applied to the reopened encoder.
 */
import { InputError } from '@sculpt/core';
import type { OnnxDescriptionEncoderConfig } from './config.js';
import { OnnxDescriptionEncoder } from './onnx-description.js';

/** Paths and hashes of an encoder's two files, as a checkpoint records them. */
export interface DescriptionEncoderFiles {
  model: string;
  modelSha256: string;
  tokenizer: string;
  tokenizerSha256: string;
}

export interface OpenDescriptionEncoderOptions {
  /** The encoder part of the saved config. */
  config: OnnxDescriptionEncoderConfig;
  /** Paths recorded in the checkpoint; null when it has none. */
  recorded: DescriptionEncoderFiles | null;
  /** Paths given again by the user; each replaces the recorded one. */
  model?: string;
  tokenizer?: string;
  /** File the config was read from, named in error messages. */
  source: string;
  threads?: number;
}

/**
 * Loads the encoder from the given or recorded paths. Rejects a file whose
 * SHA-256 differs from the config's, naming the file and the expected hash.
 */
export async function openDescriptionEncoder(options: OpenDescriptionEncoderOptions): Promise<OnnxDescriptionEncoder> {
  const { config } = options;
  const model = options.model ?? options.recorded?.model;
  const tokenizer = options.tokenizer ?? options.recorded?.tokenizer;
  if (model === undefined || tokenizer === undefined) {
    throw new InputError(
      `the model was trained with an ONNX description encoder (SHA-256 ${config.modelSha256}) but no encoder path is recorded; pass --description-onnx FILE and --description-tokenizer FILE.`,
      options.source,
    );
  }

  const encoder = await OnnxDescriptionEncoder.load({ model, tokenizer, maxLength: config.maxLength, threads: options.threads });
  try {
    const { identity } = encoder;
    if (identity.modelSha256 !== config.modelSha256) {
      throw new InputError(
        `the ONNX description encoder has SHA-256 ${identity.modelSha256}, but the model was trained with the file of SHA-256 ${config.modelSha256}; pass that file with --description-onnx.`,
        identity.model,
      );
    }
    if (identity.tokenizerSha256 !== config.tokenizerSha256) {
      throw new InputError(
        `the description tokenizer has SHA-256 ${identity.tokenizerSha256}, but the model was trained with the file of SHA-256 ${config.tokenizerSha256}; pass that file with --description-tokenizer.`,
        identity.tokenizer,
      );
    }
    const hidden = await encoder.hiddenSize();
    if (hidden !== config.hidden) {
      throw new InputError(`the ONNX description encoder returns hidden size ${hidden}, but the model's projection expects ${config.hidden}.`, identity.model);
    }
    return encoder;
  } catch (error) {
    await encoder.dispose();
    throw error;
  }
}
