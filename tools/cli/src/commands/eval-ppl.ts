/**
 * `sculpt eval ppl`: perplexity as the WikiText-2 evaluation of the pruning
 * literature computes it. Rows are joined with "\n\n" and tokenized once with
 * BOS, then non-overlapping windows of --seqlen tokens give
 * exp(total NLL / predicted tokens).
 * `--engine onnxruntime` runs an ONNX model's whole graph in onnxruntime-node
 * instead of the runtime's blocks, as a cross-check.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { InputError, UsageError } from '@sculpt/core';
import type { OnnxLogitsSession } from '@sculpt/runtime-gpu';
import { getContext } from '../context.js';
import { output } from '../output.js';
import { applyModelDevice, loadModelWithTokenizer } from './generate.js';
import { positiveInteger } from '../option-parsers.js';

/**
 * Reads evaluation rows. A .jsonl or .json file yields each record's "text"
 * field. Any other file yields its lines with their newlines kept, because
 * Hugging Face's text datasets (WikiText raw) store one line per row.
 */
export async function readEvaluationRows(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((error: Error) => {
    throw new InputError(`cannot read evaluation data: ${error.message}`, path, { cause: error });
  });
  const extension = extname(path).toLowerCase();
  if (extension === '.jsonl') {
    return text
      .split(/\r?\n/)
      .map((line, index) => [line, index] as const)
      .filter(([line]) => line.trim() !== '')
      .map(([line, index]) => textField(parseJson(line, path, index + 1), path, index + 1));
  }
  if (extension === '.json') {
    const records = parseJson(text, path);
    if (!Array.isArray(records)) throw new InputError('a .json evaluation file must contain an array of strings or of objects with a "text" field', path);
    return records.map((record, index) => (typeof record === 'string' ? record : textField(record, path, index + 1)));
  }
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function parseJson(text: string, path: string, line?: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`invalid JSON${line === undefined ? '' : ` on line ${line}`}: ${(error as Error).message}`, path);
  }
}

function textField(record: unknown, path: string, index: number): string {
  const text = (record as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') throw new InputError(`record ${index} has no string "text" field`, path);
  return text;
}

export function register(program: Command): void {
  const evalCommand = (program.commands.find((command) => command.name() === 'eval') as Command | undefined) ?? program.command('eval').description('evaluate a model');
  evalCommand
    .command('ppl')
    .description('perplexity over a text file in non-overlapping windows (WikiText-2 style)')
    .requiredOption('--model <path>', 'model: llama2.c .bin, Hugging Face folder or ONNX file/folder')
    .requiredOption('--data <file>', 'text file (one row per line), .jsonl or .json with a "text" field')
    .requiredOption('--seqlen <n>', 'window length in tokens', positiveInteger('--seqlen'))
    .option('--tokenizer <path>', 'tokenizer.json or llama2.c tok*.bin (default: found beside the model)')
    .option('--max-windows <n>', 'evaluate only the first n windows', positiveInteger('--max-windows'))
    .addOption(new Option('--engine <engine>', 'runtime: the runtime blocks; onnxruntime: the whole ONNX graph in onnxruntime-node').choices(['runtime', 'onnxruntime'] as const).default('runtime' as const))
    .action(async (options, command) => {
      const context = getContext(command as unknown as Command);
      const { computePerplexity, disposeDevices, joinForPerplexity, OnnxLogitsSession } = await import('@sculpt/runtime-gpu');
      const { model, tokenizer } = await loadModelWithTokenizer(options.model, options.tokenizer);
      let session: OnnxLogitsSession | undefined;
      try {
        const device = options.engine === 'runtime' ? await applyModelDevice(model, context.globals.device) : 'cpu';
        if (options.seqlen < 2 || options.seqlen > model.config.maxSeqLen) {
          throw new UsageError(`--seqlen must be between 2 and the model's ${model.config.maxSeqLen} positions, got ${options.seqlen}`);
        }
        if (options.engine === 'onnxruntime') {
          if (model.source.format !== 'onnx') throw new UsageError('--engine onnxruntime needs an ONNX model; convert with `sculpt convert --to onnx` first');
          session = await OnnxLogitsSession.create(options.model);
        }
        const rows = await readEvaluationRows(options.data);
        const tokens = tokenizer.encode(joinForPerplexity(rows), { bos: true });
        await model.loadAll();

        const windows = Math.min(Math.floor(tokens.length / options.seqlen), options.maxWindows ?? Infinity);
        const task = context.progress.start({ label: 'perplexity', total: windows, unit: 'windows' });
        const started = performance.now();
        const forward = session === undefined ? (window: number[]) => model.forward(window) : (window: number[]) => session!.forward(window);
        const result = await computePerplexity(tokens, options.seqlen, model.config.vocabSize, forward, {
          maxWindows: options.maxWindows,
          onWindow: (done) => task.update(done),
        });
        task.finish();
        output(
          {
            model: options.model,
            data: options.data,
            engine: options.engine,
            device,
            seqlen: options.seqlen,
            tokens: tokens.length,
            ...result,
            seconds: (performance.now() - started) / 1000,
          },
          { json: context.globals.json },
        );
      } finally {
        await session?.release();
        await model.close();
        await disposeDevices();
      }
    });
}
