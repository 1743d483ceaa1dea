/**
 * Loads a model trained by `runTraining` (or `sculpt chaincoder train`) for
 * generation: the checkpoint's weights and vocabularies, and the S3 → S4
 * co-occurrence table that coarse-to-fine decoding needs.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '@sculpt/core';
import type { Device } from '@sculpt/runtime-gpu';
import { descriptionPoolingOf } from '../model/config.js';
import { openDescriptionEncoder } from '../model/description-encoder-files.js';
import { DescriptionFeatureCache } from '../model/description-features.js';
import type { CodeVocabularies } from '../model/features.js';
import { ChainCoderModel } from '../model/model.js';
import { STATE_FILE, loadCheckpoint, type CheckpointState } from '../train/checkpoint.js';
import type { CooccurrenceTable } from './coarse-to-fine.js';

// Names repeated from train/run.ts so that loading a model does not import the training run's modules.
const CHECKPOINT_DIR = 'checkpoint';
const COOCCURRENCE_FILE = 'cooccurrence.json';

export interface TrainedModel {
  model: ChainCoderModel;
  vocabularies: CodeVocabularies;
  /** Null when the folder has no cooccurrence.json (a bare checkpoint folder). */
  cooccurrence: CooccurrenceTable | null;
  state: CheckpointState;
  /**
   * Pooled features of the ONNX description encoder, computed on demand;
   * null for models with the trainable description encoder.
   */
  descriptionFeatures: DescriptionFeatureCache | null;
  /** Disposes the model and closes the description encoder's session. */
  dispose(): Promise<void>;
}

export interface LoadTrainedModelOptions {
  /** ONNX description encoder to use in place of the path recorded in the checkpoint; it must have the recorded SHA-256. */
  descriptionOnnx?: string;
  /** Tokenizer.json of the description encoder, in place of the recorded path. */
  descriptionTokenizer?: string;
}

/** Finds the checkpoint folder: `<dir>/checkpoint` of a training output folder, or `dir` itself. */
export function checkpointFolder(dir: string): string {
  if (existsSync(join(dir, CHECKPOINT_DIR, STATE_FILE))) return join(dir, CHECKPOINT_DIR);
  if (existsSync(join(dir, STATE_FILE))) return dir;
  throw new InputError(`no ChainCoder checkpoint found (looked for ${CHECKPOINT_DIR}/${STATE_FILE} and ${STATE_FILE}); pass the --out folder of \`sculpt chaincoder train\``, dir);
}

/** Reads `cooccurrence.json`: a list of [layout token id, [content token ids]] pairs. */
export async function readCooccurrence(file: string): Promise<CooccurrenceTable> {
  let pairs: unknown;
  try {
    pairs = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read the co-occurrence table: ${(error as Error).message}`, file);
  }
  const valid = Array.isArray(pairs) && pairs.every((pair) => Array.isArray(pair) && pair.length === 2 && Number.isInteger(pair[0]) && Array.isArray(pair[1]) && pair[1].every(Number.isInteger));
  if (!valid) throw new InputError('the co-occurrence table must be a list of [layout id, [content ids]] pairs', file);
  return new Map((pairs as [number, number[]][]).map(([layout, accessories]) => [layout, new Set(accessories)]));
}

/**
 * Loads the checkpoint in `dir`. A model trained with an ONNX description
 * encoder reopens it from the recorded paths, or from the paths in `options`,
 * and rejects files whose SHA-256 differs from the recorded one.
 */
export async function loadTrainedModel(dir: string, device: Device, options: LoadTrainedModelOptions = {}): Promise<TrainedModel> {
  const folder = checkpointFolder(dir);
  const checkpoint = await loadCheckpoint(folder);
  const { config } = checkpoint.state;
  if (config.descriptionEncoder === undefined && (options.descriptionOnnx !== undefined || options.descriptionTokenizer !== undefined)) {
    throw new InputError('this model was trained with the trainable description encoder and takes no ONNX description encoder; drop --description-onnx and --description-tokenizer.', folder);
  }
  const encoder = config.descriptionEncoder === undefined
    ? null
    : await openDescriptionEncoder({
        config: config.descriptionEncoder,
        recorded: checkpoint.state.descriptionEncoder ?? null,
        model: options.descriptionOnnx,
        tokenizer: options.descriptionTokenizer,
        source: join(folder, STATE_FILE),
      });

  const model = new ChainCoderModel(device, config, 0);
  try {
    model.loadWeights(checkpoint.weights, join(folder, 'weights.safetensors'));
  } catch (error) {
    model.dispose();
    await encoder?.dispose();
    throw error;
  }
  const cooccurrenceFile = join(dir, COOCCURRENCE_FILE);
  const cooccurrence = existsSync(cooccurrenceFile) ? await readCooccurrence(cooccurrenceFile) : null;
  return {
    model,
    vocabularies: checkpoint.vocabularies,
    cooccurrence,
    state: checkpoint.state,
    descriptionFeatures: encoder === null ? null : new DescriptionFeatureCache(encoder, descriptionPoolingOf(config)),
    dispose: async () => {
      model.dispose();
      await encoder?.dispose();
    },
  };
}
