/**
 * `sculpt convert`: writes a loaded model in another format. Conversions go
 * through the runtime's normalized weights, so every input format converts to
 * every output format the model's architecture fits (llama2.c takes only
 * plain Llama blocks).
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { getLogger } from '@sculpt/core';
import { getContext } from '../context.js';
import { output } from '../output.js';

const log = getLogger('cli:convert');

/** Tokenizer and generation files of a Hugging Face or transformers.js folder, copied into a converted HF folder. */
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
        switch (options.to) {
          case 'hf': {
            const copyFiles = await tokenizerFiles(options.model, model.source.format);
            if (model.source.format === 'llama2c') log.info('llama2.c tokenizers (tok*.bin) have no tokenizer.json equivalent; pass the tok*.bin with --tokenizer when using the converted model');
            await convertToHf(model, options.out, { force: options.force, copyFiles });
            break;
          }
          case 'onnx':
            await exportOnnx(model, options.out, { force: options.force, externalData: options.externalData });
            break;
          case 'llama2c':
            await saveLlama2c(model, options.out, { force: options.force });
            break;
        }
        task.finish();
        output(
          {
            model: options.model,
            from: model.source.format,
            to: options.to,
            out: options.out,
            architecture: model.config.architecture,
            seconds: (performance.now() - started) / 1000,
          },
          { json: context.globals.json },
        );
      } finally {
        await model.close();
      }
    });
}
