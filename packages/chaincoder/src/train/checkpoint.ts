/**
 * Training checkpoints: a folder with the weights and the AdamW moments as
 * safetensors, the vocabularies, and a JSON state (steps, RNG state, config,
 * vocabulary hash). A checkpoint is written to a temporary sibling folder and
 * renamed into place, so a reader never sees a half-written one.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError, writeFileAtomic, type RandomState } from '@sculpt/core';
import { SafetensorsFile, encodeFloat, writeSafetensors, type Tensor } from '@sculpt/runtime-gpu';
import type { ChainCoderConfig } from '../model/config.js';
import type { DescriptionEncoderFiles } from '../model/description-encoder-files.js';
import type { CodeVocabularies } from '../model/features.js';
import { Vocabulary } from '../tokenizer/vocabulary.js';

export const CHECKPOINT_FORMAT = 'sculpt-chaincoder-checkpoint';
export const WEIGHTS_FILE = 'weights.safetensors';
export const MOMENTS_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'state.json';
export const VOCABULARIES_FILE = 'vocabularies.json';

/** Position of a training run, enough to continue it bit for bit on the cpu device. */
export interface TrainingState {
  /** Optimizer updates done. */
  step: number;
  epoch: number;
  /** Next batch within the epoch. */
  batchIndex: number;
  /** AdamW's own update counter (drives its bias correction). */
  optimizerStep: number;
  random: RandomState;
  /** Loss scale of the dynamic loss scaler (f16 activations only). */
  lossScale?: number;
}

export interface CheckpointState extends TrainingState {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  config: ChainCoderConfig;
  /** SHA-256 of vocabularies.json; a mismatch means the weights belong to other vocabularies. */
  vocabularyHash: string;
  /** Options of the run that wrote the checkpoint (schedule, batch size, seed, data), for resuming and for the record. */
  run: Record<string, unknown>;
  /** Paths and SHA-256 of the ONNX description encoder's files; present when the config has `descriptionEncoder`. */
  descriptionEncoder?: DescriptionEncoderFiles;
}

export interface Checkpoint {
  dir: string;
  state: CheckpointState;
  vocabularies: CodeVocabularies;
  weights: Map<string, Float32Array>;
  /** Parameter name → first (m) and second (v) AdamW moments. */
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
}

export interface CheckpointContent {
  training: TrainingState;
  config: ChainCoderConfig;
  vocabularies: CodeVocabularies;
  parameters: [string, Tensor][];
  moments: { m: Tensor; v: Tensor }[];
  run: Record<string, unknown>;
  descriptionEncoder?: DescriptionEncoderFiles;
}

/** Serializes the vocabularies in a stable form; the description map is stored as [bpe id, compact id] pairs. */
export function vocabulariesJson(vocabularies: CodeVocabularies): string {
  return JSON.stringify({
    input: vocabularies.input.toJSON(),
    output: vocabularies.output.toJSON(),
    description: [...vocabularies.description.entries()],
  }) + '\n';
}

function parseVocabularies(text: string, file: string): CodeVocabularies {
  let json: { input?: unknown; output?: unknown; description?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (error) {
    throw new InputError(`vocabularies are not valid JSON: ${(error as Error).message}`, file);
  }
  const pairs = json.description;
  if (!Array.isArray(pairs) || !pairs.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every(Number.isInteger))) {
    throw new InputError('"description" must be a list of [bpe id, compact id] pairs', file);
  }
  return {
    input: Vocabulary.fromJSON(json.input, file),
    output: Vocabulary.fromJSON(json.output, file),
    description: new Map(pairs as [number, number][]),
  };
}

/** Reads the vocabularies file of a checkpoint folder. */
export async function readVocabularies(file: string): Promise<CodeVocabularies> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new InputError(`cannot read the vocabularies: ${error.message}`, file);
  });
  return parseVocabularies(text, file);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function tensorBytes(tensor: Tensor): Promise<Uint8Array> {
  return encodeFloat((await tensor.read()) as Float32Array, 'F32');
}

/**
 * Writes a checkpoint folder at `dir`. The files go to a temporary sibling
 * folder first. An existing checkpoint is moved aside, the new folder renamed
 * into place, and the old one removed.
 */
export async function saveCheckpoint(dir: string, content: CheckpointContent): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const temporary = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await rm(temporary, { recursive: true, force: true });
  await mkdir(temporary);

  const weights = await Promise.all(content.parameters.map(async ([name, tensor]) => ({ name, dtype: 'F32' as const, shape: [...tensor.shape], data: await tensorBytes(tensor) })));
  await writeSafetensors(join(temporary, WEIGHTS_FILE), weights, { format: CHECKPOINT_FORMAT });

  if (content.moments.length !== content.parameters.length) {
    throw new Error(`saveCheckpoint: ${content.moments.length} moment pairs for ${content.parameters.length} parameters`);
  }
  const moments = [];
  for (const [index, [name, tensor]] of content.parameters.entries()) {
    const shape = [...tensor.shape];
    moments.push({ name: `m.${name}`, dtype: 'F32' as const, shape, data: await tensorBytes(content.moments[index].m) });
    moments.push({ name: `v.${name}`, dtype: 'F32' as const, shape, data: await tensorBytes(content.moments[index].v) });
  }
  await writeSafetensors(join(temporary, MOMENTS_FILE), moments, { format: CHECKPOINT_FORMAT });

  const vocabularies = vocabulariesJson(content.vocabularies);
  await writeFileAtomic(join(temporary, VOCABULARIES_FILE), vocabularies);
  const state: CheckpointState = {
    format: CHECKPOINT_FORMAT,
    version: 1,
    ...content.training,
    config: content.config,
    vocabularyHash: sha256(vocabularies),
    run: content.run,
    ...(content.descriptionEncoder === undefined ? {} : { descriptionEncoder: content.descriptionEncoder }),
  };
  // The state is written last, so a folder without it is incomplete.
  await writeFileAtomic(join(temporary, STATE_FILE), JSON.stringify(state, null, 2) + '\n');

  const previous = join(parent, `.${basename(dir)}.old-${process.pid}-${Date.now()}`);
  const exists = await stat(dir).then(() => true, () => false);
  if (exists) await rename(dir, previous);
  await rename(temporary, dir);
  if (exists) await rm(previous, { recursive: true, force: true });
}

async function readState(file: string): Promise<CheckpointState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read the checkpoint state: ${(error as Error).message}; pass a folder written by \`sculpt chaincoder train\``, file);
  }
  let state: Partial<CheckpointState>;
  try {
    state = JSON.parse(text) as Partial<CheckpointState>;
  } catch (error) {
    throw new InputError(`checkpoint state is not valid JSON: ${(error as Error).message}`, file);
  }
  if (state.format !== CHECKPOINT_FORMAT || state.version !== 1) {
    throw new InputError(`not a ChainCoder checkpoint (expected "format": "${CHECKPOINT_FORMAT}", version 1)`, file);
  }
  const counters = [state.step, state.epoch, state.batchIndex, state.optimizerStep];
  if (!counters.every((value) => Number.isInteger(value) && (value as number) >= 0)) {
    throw new InputError('checkpoint state needs non-negative integers step, epoch, batchIndex and optimizerStep', file);
  }
  if (!Array.isArray(state.random) || state.random.length !== 4 || typeof state.config !== 'object') {
    throw new InputError('checkpoint state needs "random" (4 integers) and "config"', file);
  }
  if (state.lossScale !== undefined && !(typeof state.lossScale === 'number' && state.lossScale > 0 && Number.isFinite(state.lossScale))) {
    throw new InputError(`checkpoint state has an invalid lossScale ${JSON.stringify(state.lossScale)}; it must be a positive number`, file);
  }
  const encoder = state.descriptionEncoder as Partial<DescriptionEncoderFiles> | undefined;
  if (encoder !== undefined && !(['model', 'modelSha256', 'tokenizer', 'tokenizerSha256'] as const).every((key) => typeof encoder[key] === 'string')) {
    throw new InputError(`checkpoint state has an invalid descriptionEncoder ${JSON.stringify(encoder)}; it needs the strings model, modelSha256, tokenizer and tokenizerSha256`, file);
  }
  return state as CheckpointState;
}

/** Reads a checkpoint folder and checks that its files belong together. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const state = await readState(join(dir, STATE_FILE));
  const vocabularyFile = join(dir, VOCABULARIES_FILE);
  const vocabularyText = await readFile(vocabularyFile, 'utf8').catch((error: Error) => {
    throw new InputError(`cannot read the vocabularies: ${error.message}`, vocabularyFile);
  });
  if (sha256(vocabularyText) !== state.vocabularyHash) {
    throw new InputError(`vocabulary hash does not match ${STATE_FILE}; the folder mixes files of different runs`, vocabularyFile);
  }

  const weights = new Map<string, Float32Array>();
  const weightsFile = await SafetensorsFile.open(join(dir, WEIGHTS_FILE));
  try {
    for (const name of weightsFile.names) weights.set(name, await weightsFile.readFloat32(name));
  } finally {
    await weightsFile.close();
  }

  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  const momentsFile = await SafetensorsFile.open(join(dir, MOMENTS_FILE));
  try {
    for (const name of weights.keys()) {
      moments.set(name, { m: await momentsFile.readFloat32(`m.${name}`), v: await momentsFile.readFloat32(`v.${name}`) });
    }
  } finally {
    await momentsFile.close();
  }
  return { dir, state, vocabularies: parseVocabularies(vocabularyText, vocabularyFile), weights, moments };
}
