/**
 * Reads a model's maximum context length without loading its weights, so a
 * calibration seqlen larger than the model can attend to is rejected early.
 * - llama2.c checkpoint (`*.bin`): the 7th int32 of the header, `seq_len`.
 * - Hugging Face model folder (or a file in it): `config.json`'s
 *   `max_position_embeddings` (or `n_positions`, `max_sequence_length`, `seq_length`).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { InputError } from '@sculpt/core';

export interface ModelContext {
  contextLength: number;
  /** File the length was read from. */
  source: string;
}

const CONFIG_KEYS = ['max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length'];

export async function readModelContext(modelPath: string): Promise<ModelContext> {
  const absolute = resolve(modelPath);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(absolute)).isDirectory();
  } catch (error) {
    throw new InputError('model path not found; check the path', absolute, { cause: error });
  }

  if (!isDirectory && extname(absolute).toLowerCase() === '.bin') return readLlama2cHeader(absolute);

  const configPath = join(isDirectory ? absolute : dirname(absolute), 'config.json');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`cannot read the model's config.json (${(error as Error).message}); a Hugging Face model folder needs one`, configPath, { cause: error });
  }
  for (const key of CONFIG_KEYS) {
    const value = config[key];
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return { contextLength: value, source: configPath };
  }
  throw new InputError(`no context length in config.json (looked for ${CONFIG_KEYS.join(', ')})`, configPath);
}

async function readLlama2cHeader(path: string): Promise<ModelContext> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(28);
    const { bytesRead } = await handle.read(header, 0, 28, 0);
    if (bytesRead < 28) throw new InputError('file is shorter than the 28-byte llama2.c checkpoint header', path);
    const fields = Array.from({ length: 7 }, (_unused, i) => header.readInt32LE(i * 4));
    const [dim, hiddenDim, layers, heads, kvHeads, , seqLen] = fields;
    const plausible = dim > 0 && hiddenDim > 0 && layers > 0 && heads > 0 && kvHeads > 0 && seqLen > 0 && dim % heads === 0;
    if (!plausible) throw new InputError(`invalid llama2.c checkpoint header ${JSON.stringify(fields)}; is this a llama2.c model file?`, path);
    return { contextLength: seqLen, source: path };
  } finally {
    await handle.close();
  }
}
