/** Tokenizer loading by file type, and from a model path. */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InputError } from '@sculpt/core';
import { HuggingFaceTokenizer } from './huggingface.js';
import { Llama2cTokenizer } from './llama2c.js';
import type { Tokenizer } from './types.js';

/**
 * Loads a tokenizer file: `*.json` is a Hugging Face tokenizer.json, `*.bin`
 * a llama2.c tokenizer. A directory is searched for `tokenizer.json`, then
 * for `tokenizer.bin` or a single `tok*.bin`.
 */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  const absolute = resolve(path);
  const info = await statOrThrow(absolute, 'tokenizer');
  if (info.isDirectory()) return loadTokenizer(await tokenizerInDirectory(absolute));

  const extension = extname(absolute).toLowerCase();
  if (extension === '.json') return HuggingFaceTokenizer.fromFile(absolute);
  if (extension === '.bin') return Llama2cTokenizer.fromFile(absolute);
  throw new InputError(`unknown tokenizer file type "${extension}"; expected tokenizer.json (Hugging Face) or tok*.bin (llama2.c)`, absolute);
}

/**
 * Finds the tokenizer that belongs to a model. A llama2.c checkpoint (`*.bin`)
 * uses the `tok*.bin` or `tokenizer.bin` beside it, then a `tokenizer.json`.
 * An ONNX file (`*.onnx`) uses the `tokenizer.json` beside it, then a llama2.c
 * tokenizer (`sculpt convert` copies one there when converting from llama2.c).
 * A Hugging Face model folder (or another file inside one) uses its
 * `tokenizer.json`.
 */
export async function tokenizerPathForModel(modelPath: string): Promise<string> {
  const absolute = resolve(modelPath);
  const info = await statOrThrow(absolute, 'model');
  if (info.isDirectory()) return tokenizerInDirectory(absolute);

  const folder = dirname(absolute);
  const names = await readdir(folder);
  const extension = extname(absolute).toLowerCase();
  const llama2c = (): string | undefined => {
    const candidates = names.filter((name) => name !== basename(absolute) && (name === 'tokenizer.bin' || /^tok.*\.bin$/.test(name))).sort();
    if (candidates.length > 1) {
      throw new InputError(`several llama2.c tokenizers beside the model (${candidates.join(', ')}); pass one with --tokenizer`, absolute);
    }
    return candidates.length === 1 ? join(folder, candidates[0]) : undefined;
  };

  if (extension === '.bin') {
    const found = llama2c();
    if (found !== undefined) return found;
  }
  if (names.includes('tokenizer.json')) return join(folder, 'tokenizer.json');
  if (extension === '.onnx') {
    const found = llama2c();
    if (found !== undefined) return found;
  }
  throw new InputError(`no tokenizer found beside the model (looked for tok*.bin, tokenizer.bin, tokenizer.json in ${folder}); pass --tokenizer`, absolute);
}

/** Loads the tokenizer that belongs to a model path (see tokenizerPathForModel). */
export async function loadTokenizerForModel(modelPath: string): Promise<Tokenizer> {
  return loadTokenizer(await tokenizerPathForModel(modelPath));
}

async function tokenizerInDirectory(folder: string): Promise<string> {
  const names = await readdir(folder);
  if (names.includes('tokenizer.json')) return join(folder, 'tokenizer.json');
  if (names.includes('tokenizer.bin')) return join(folder, 'tokenizer.bin');
  const llama = names.filter((name) => /^tok.*\.bin$/.test(name)).sort();
  if (llama.length === 1) return join(folder, llama[0]);
  throw new InputError(
    llama.length > 1
      ? `several llama2.c tokenizers in the folder (${llama.join(', ')}); pass the file itself`
      : 'no tokenizer.json, tokenizer.bin or tok*.bin in the folder',
    folder,
  );
}

async function statOrThrow(path: string, what: string) {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'not found' : (error as Error).message;
    throw new InputError(`${what} path ${reason}; check the path`, path, { cause: error });
  }
}
