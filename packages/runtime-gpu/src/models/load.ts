/** Loading a model from a path by its format. */
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InputError } from '@sculpt/core';
import { loadHf } from './hf.js';
import { loadLlama2c } from './llama2c.js';
import type { CausalLM, ModelFormat } from './model.js';
import { loadOnnx } from './onnx-model.js';

/**
 * Detects a model's format: a `.onnx` file, or a folder holding `model.onnx`
 * (directly or under `onnx/`) and no safetensors, is ONNX; a folder with
 * config.json and safetensors is Hugging Face; any other file is a llama2.c
 * checkpoint.
 */
export async function detectModelFormat(path: string): Promise<ModelFormat> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`model path ${error.code === 'ENOENT' ? 'not found' : error.message}; check the path`, path, { cause: error });
  });
  if (info.isFile()) return extname(path).toLowerCase() === '.onnx' ? 'onnx' : 'llama2c';

  const exists = (name: string) => stat(join(path, name)).then(() => true, () => false);
  if ((await exists('model.safetensors')) || (await exists('model.safetensors.index.json'))) return 'hf';
  for (const name of ['model.onnx', 'onnx/model.onnx', 'decoder_model.onnx', 'onnx/decoder_model.onnx']) if (await exists(name)) return 'onnx';
  if (await exists('config.json')) {
    const config = await readFile(join(path, 'config.json'), 'utf8').catch(() => '');
    throw new InputError(`the folder has config.json${config.includes('architectures') ? '' : ' (without "architectures")'} but no model.safetensors, model.safetensors.index.json or model.onnx`, path);
  }
  throw new InputError('not a model folder: no config.json with safetensors and no model.onnx', path);
}

/** Loads a llama2.c checkpoint, Hugging Face folder or ONNX export. */
export async function loadModel(path: string): Promise<CausalLM> {
  switch (await detectModelFormat(path)) {
    case 'llama2c':
      return loadLlama2c(path);
    case 'hf':
      return loadHf(path);
    case 'onnx':
      return loadOnnx(path);
  }
}
