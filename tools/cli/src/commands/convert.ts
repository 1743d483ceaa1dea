/**
 * `sculpt convert`: writes a loaded model in another format. Conversions go
 * through the runtime's normalized weights, so every input format converts to
 * every output format the model's architecture fits (llama2.c takes only
 * plain Llama blocks).
 */
import { copyFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { getLogger, InputError } from '@sculpt/core';
import { getContext } from '../context.js';
import { output } from '../output.js';

const log = getLogger('cli:convert');

/** Tokenizer and generation files of a Hugging Face or transformers.js folder, copied along with a converted model. */
async function tokenizerFiles(modelPath: string, format: string): Promise<string[]> {
  if (format === 'llama2c') return [];
  const folder = format === 'hf' ? modelPath : dirname(modelPath);
  const candidates = [folder, dirname(folder)];
  for (const candidate of candidates) {
    const names = await readdir(candidate).catch(() => [] as string[]);
    const files = names.filter((name) => ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'].includes(name));
    if (files.length > 0) return files.map((name) => join(candidate, name));
  }
  return [];
}

/**
 * Finds the llama2.c tokenizer (tok*.bin or tokenizer.bin) of a llama2.c
 * checkpoint, or undefined with a warning when there is none. A llama2.c
 * tokenizer scores its merges, which a tokenizer.json BPE model cannot
 * express exactly, so converted models carry the .bin file itself.
 */
async function llama2cTokenizer(modelPath: string): Promise<string | undefined> {
  const { tokenizerPathForModel } = await import('@sculpt/datasets');
  try {
    return await tokenizerPathForModel(modelPath);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    log.warn(`no tokenizer copied: ${error.message}`);
    return undefined;
  }
}

/** Copies a file beside an output file unless a file of that name is already there (and --force is off). */
async function copyFileBeside(file: string, outFile: string, force: boolean): Promise<string | undefined> {
  const target = join(dirname(resolve(outFile)), basename(file));
  if (resolve(file) === target) return target;
  if (existsSync(target) && !force) {
    log.warn(`${target} already exists, so ${file} was not copied beside the output; pass --force to replace it`);
    return undefined;
  }
  await copyFile(file, target);
  return target;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a model between llama2.c, Hugging Face safetensors and ONNX')
    .requiredOption('--model <path>', 'input model: llama2.c .bin, Hugging Face folder or ONNX file/folder')
    .addOption(new Option('--to <format>', 'output format').choices(['hf', 'onnx', 'llama2c'] as const).makeOptionMandatory())
    .requiredOption('--out <path>', 'output path: a folder for hf, a .onnx file for onnx, a .bin file for llama2c')
    .option('--force', 'replace an existing output (including the input model)', false)
    .option('--external-data', 'onnx: keep weights in a <out>_data file next to the graph', false)
    .action(async (options, command) => {
      const context = getContext(command as unknown as Command);
      const started = performance.now();
      const { convertToHf, exportOnnx, loadModel, saveLlama2c } = await import('@sculpt/runtime-gpu');
      const model = await loadModel(options.model);
      try {
        const task = context.progress.start({ label: `convert to ${options.to}`, total: 1, unit: 'models' });
        // Tokenizer files travel with the model, so `generate` and `calibrate --model` find them beside the output.
        const tokenizerSources =
          model.source.format === 'llama2c'
            ? [await llama2cTokenizer(options.model)].filter((file): file is string => file !== undefined)
            : await tokenizerFiles(options.model, model.source.format);
        const copied: string[] = [];
        switch (options.to) {
          case 'hf':
            await convertToHf(model, options.out, { force: options.force, copyFiles: tokenizerSources });
            copied.push(...tokenizerSources.map((file) => join(resolve(options.out), basename(file))));
            break;
          case 'onnx':
            await exportOnnx(model, options.out, { force: options.force, externalData: options.externalData });
            break;
          case 'llama2c':
            await saveLlama2c(model, options.out, { force: options.force });
            break;
        }
        if (options.to !== 'hf') {
          for (const file of tokenizerSources) {
            const target = await copyFileBeside(file, options.out, options.force);
            if (target !== undefined) copied.push(target);
          }
        }
        task.increment();
        task.finish();
        output(
          {
            model: options.model,
            from: model.source.format,
            to: options.to,
            out: options.out,
            architecture: model.config.architecture,
            tokenizer: copied,
            seconds: (performance.now() - started) / 1000,
          },
          { json: context.globals.json },
        );
      } finally {
        await model.close();
      }
    });
}
