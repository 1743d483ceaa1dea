/**
 * `sculpt chaincoder tokenize | detokenize | vocab build`: the ChainCoder
 * syntax-aware tokenizer on files. `tokenize` prints S1–S4 and the rename
 * map, `detokenize` turns such a JSON file (or a decoder target) back into
 * Python source, `vocab build` builds a code vocabulary from `.py` files.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { InputError, UsageError, getLogger } from '@sculpt/core';
import type { EncodedProgram, TokenizerMode } from '@sculpt/chaincoder';
import { getContext } from '../context.js';
import { output } from '../output.js';
import { positiveInteger } from '../option-parsers.js';

const log = getLogger('cli:chaincoder');

/*
 * Option choices and defaults that @sculpt/chaincoder also defines
 * (TOKENIZER_MODES, DEFAULT_POOL_SIZE). They are repeated here because the
 * options need them when the command is registered, and importing that
 * package would add to the start-up time of every sculpt command. A test
 * checks that both stay equal.
 */
export const TOKENIZER_MODE_CHOICES = ['lossless', 'compat'] as const satisfies readonly TokenizerMode[];
export const DEFAULT_RENAME_POOL_SIZE = 50;

/** Finds the `chaincoder` parent command (another module may have created it) or creates it. */
function chaincoderCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'chaincoder');
  if (existing !== undefined) return existing as unknown as Command;
  return program.command('chaincoder').description('ChainCoder: syntax-aware coarse-to-fine program synthesis') as unknown as Command;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read file: ${(error as Error).message}`, file);
  }
}

const modeOption = (): Option<'--mode <mode>', undefined, 'lossless', TokenizerMode> =>
  new Option('--mode <mode>', 'tokenizer mode: lossless (exact) or compat (reference behaviour)')
    .choices(TOKENIZER_MODE_CHOICES)
    .default('lossless' as const) as unknown as Option<'--mode <mode>', undefined, 'lossless', TokenizerMode>;

function renderPairs(encoded: EncodedProgram): string {
  const lines = encoded.s3.map((syntax, i) => `${String(i).padStart(4)}  ${syntax}  |  ${encoded.s4[i]}`);
  return [
    `mode: ${encoded.mode}, outline: ${encoded.outline}, ${encoded.s3.length} pairs`,
    `S1: ${JSON.stringify(encoded.s1)}`,
    `S2: ${JSON.stringify(encoded.s2)}`,
    ...lines,
    `renames: ${JSON.stringify(encoded.renames)}`,
  ].join('\n');
}

/** Reads S3/S4 from a tokenize JSON document, or a decoder target from `{tokens: [...]}` or a bare array. */
async function decodeDocument(document: unknown, mode: TokenizerMode | undefined, file: string): Promise<string> {
  const { TargetDecodeError, decodeFrame, decodeProgram } = await import('@sculpt/chaincoder');
  const record = document as { s3?: unknown; s4?: unknown; tokens?: unknown; mode?: unknown };
  const documentMode = record !== null && typeof record === 'object' && typeof record.mode === 'string' ? record.mode : undefined;
  const resolvedMode = (mode ?? documentMode ?? 'lossless') as TokenizerMode;
  if (!(TOKENIZER_MODE_CHOICES as readonly string[]).includes(resolvedMode)) throw new InputError(`unknown tokenizer mode "${resolvedMode}"`, file);
  const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((t) => typeof t === 'string');
  try {
    if (isStringArray(document)) return decodeProgram(document, { mode: resolvedMode }).source;
    if (isStringArray(record.tokens)) return decodeProgram(record.tokens, { mode: resolvedMode }).source;
    if (isStringArray(record.s3) && isStringArray(record.s4)) return decodeFrame(record.s3, record.s4, resolvedMode).source;
  } catch (error) {
    if (error instanceof TargetDecodeError) throw new InputError(error.message, file);
    throw error;
  }
  throw new InputError('expected a JSON object with "s3" and "s4" string arrays (as printed by tokenize --json) or a token array', file);
}

export function register(program: Command): void {
  const parent = chaincoderCommand(program);

  parent
    .command('tokenize')
    .description('split a Python file into the S1 (outline), S2 (hint), S3 (layout frame) and S4 (accessory) token sequences')
    .argument('<file>', 'Python source file')
    .addOption(modeOption())
    .option('--outline <strategy>', 'S1/S2 strategy: stride:K, ast[:MAX_S2] or none (default: ast for lossless, stride:500 for compat)')
    .option('--no-rename', 'keep identifiers instead of renaming them to var_i, func_i, Class_i, var_in_i')
    .option('--keep-docstrings', 'keep the values of docstrings and other bare constant statements')
    .option('--pool-size <n>', 'names per renaming pool', positiveInteger('--pool-size'), DEFAULT_RENAME_POOL_SIZE)
    .action(async (file, flags, command) => {
      const context = getContext(command as unknown as Command);
      const path = resolve(file);
      const { createProgramTokenizer } = await import('@sculpt/chaincoder');
      const tokenizer = await createProgramTokenizer();
      const encoded = tokenizer.encode(await readText(path), {
        mode: flags.mode,
        outline: flags.outline,
        renameIdentifiers: flags.rename,
        emptyDocstrings: flags.keepDocstrings !== true,
        poolSize: flags.poolSize,
        file: path,
      });
      output(encoded, { json: context.globals.json, human: renderPairs(encoded) });
    });

  parent
    .command('detokenize')
    .description('turn a tokenize --json document (or a decoder target token array) back into Python source')
    .argument('<file>', 'JSON file')
    .addOption(new Option('--mode <mode>', 'tokenizer mode (default: the "mode" field of the file, else lossless)').choices(TOKENIZER_MODE_CHOICES))
    .action(async (file, flags, command) => {
      const context = getContext(command as unknown as Command);
      const path = resolve(file);
      let document: unknown;
      try {
        document = JSON.parse(await readText(path));
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(`not valid JSON: ${(error as Error).message}`, path);
      }
      const source = await decodeDocument(document, flags.mode, path);
      output({ source }, { json: context.globals.json, human: source });
    });

  const vocab = parent.command('vocab').description('ChainCoder vocabularies');
  vocab
    .command('build')
    .description('build the code (output) vocabulary from the .py files under one or more directories')
    .argument('<dirs...>', 'directories searched recursively for .py files')
    .requiredOption('--out <file>', 'output vocabulary file (.json)')
    .option('--input-out <file>', 'also write the input (I/O data) vocabulary, holding the base and observed content tokens')
    .addOption(modeOption())
    .option('--outline <strategy>', 'outline strategy recorded in the vocabulary (stride:K, ast[:MAX_S2] or none)')
    .option('--min-syntax-count <n>', 'keep layout-frame tokens seen at least this many times', positiveInteger('--min-syntax-count'), 1)
    .option('--pool-size <n>', 'names per renaming pool', positiveInteger('--pool-size'), DEFAULT_RENAME_POOL_SIZE)
    .action(async (dirs, flags, command) => {
      const context = getContext(command as unknown as Command);
      const { buildVocabularies, createProgramTokenizer, listPythonFiles } = await import('@sculpt/chaincoder');
      const tokenizer = await createProgramTokenizer();
      const programs: EncodedProgram[] = [];
      const skipped: { file: string; reason: string }[] = [];
      for (const dir of dirs) {
        const files = await listPythonFiles(resolve(dir)).catch((error: Error) => {
          throw new InputError(`cannot list directory: ${error.message}`, resolve(dir));
        });
        if (files.length === 0) log.warn(() => `no .py files under ${resolve(dir)}`);
        for (const file of files) {
          try {
            programs.push(tokenizer.encode(await readText(file), { mode: flags.mode, outline: flags.outline, poolSize: flags.poolSize, file }));
          } catch (error) {
            // Programs the tokenizer cannot take (syntax errors, unsupported constructs, pool overflow) are counted and named, not fatal.
            skipped.push({ file, reason: (error as Error).message });
            log.warn(() => `skipping ${file}: ${(error as Error).message}`);
          }
        }
      }
      if (programs.length === 0) throw new InputError(`no tokenizable .py files under ${dirs.join(', ')}`);
      const built = buildVocabularies(programs, [], { mode: flags.mode, minSyntaxCount: flags.minSyntaxCount, poolSize: flags.poolSize });
      await built.output.save(resolve(flags.out));
      if (flags.inputOut !== undefined) await built.input.save(resolve(flags.inputOut));
      output(
        { out: resolve(flags.out), inputOut: flags.inputOut === undefined ? null : resolve(flags.inputOut), size: built.output.size, ...built.report, skipped },
        { json: context.globals.json },
      );
    });
}
