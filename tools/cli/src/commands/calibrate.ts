/**
 * `sculpt calibrate`: tokenizes and samples calibration windows from one or
 * more datasets and writes them as a calibration token file (see
 * `readCalibrationFile` in @sculpt/datasets for the format).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError, getLogger } from '@sculpt/core';
import type {
  CalibrationDataset,
  CalibrationFile,
  CalibrationFormat,
  CalibrationRequest,
  CalibrationSet,
  PaddingSide,
  RunMode,
  Split,
} from '@sculpt/datasets';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { getContext } from '../context.js';
import { output } from '../output.js';
import { collect, parseKeyValues, positiveInteger } from '../option-parsers.js';

const log = getLogger('cli:calibrate');

const SPLIT_CHOICES = ['train', 'validation', 'test', 'all'] as const;

/**
 * The sample formats of @sculpt/datasets (its CALIBRATION_FORMATS), listed
 * here because `--format` needs them when the command is registered, and
 * importing that package would add to the start-up time of every sculpt
 * command. A test checks that both lists stay equal.
 */
export const CALIBRATION_FORMAT_CHOICES = ['zero', 'single', 'icl', 'cot', 'window'] as const satisfies readonly CalibrationFormat[];

function integer(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) throw new UsageError(`${name} must be an integer, got "${value}"`);
    return number;
  };
}

/** Reads the sampler settings recorded in a calibration file's config (keys as `sculpt calibrate` writes them). */
function settingsFromConfig(config: Record<string, unknown>): Partial<CalibrationRequest> {
  const settings: Partial<CalibrationRequest> = {};
  const number = (key: string) => (typeof config[key] === 'number' ? (config[key] as number) : undefined);
  if (typeof config.format === 'string') {
    if (!(CALIBRATION_FORMAT_CHOICES as readonly string[]).includes(config.format)) throw new UsageError(`the replayed file's config has an unknown format "${config.format}"`);
    settings.format = config.format as CalibrationFormat;
  }
  if (config.padding === 'left' || config.padding === 'right') settings.padding = config.padding;
  if (config.mode === 'faithful' || config.mode === 'clean') settings.mode = config.mode;
  settings.padId = number('pad_id');
  settings.dataSeqlen = number('data_seqlen');
  settings.numInContext = number('num_incontext');
  return settings;
}

/** Source of the tokenizer: a tokenizer file, or a model whose tokenizer lies beside it. */
interface TokenizerSource {
  tokenizer?: string;
  model?: string;
}

/**
 * Finds the tokenizer source of a replayed file when no --tokenizer or --model
 * is given: the model or tokenizer path in its config (files written since
 * these keys exist), then the recorded tokenizer file name beside the
 * replayed file. The caller still checks the tokenizer's SHA-256.
 */
function recordedTokenizerSource(replayPath: string, replay: CalibrationFile): TokenizerSource {
  const config = replay.config ?? {};
  if (typeof config.model === 'string' && existsSync(config.model)) return { model: config.model };
  if (typeof config.tokenizer_file === 'string' && existsSync(config.tokenizer_file)) return { tokenizer: config.tokenizer_file };
  const recordedName = replay.tokenizer?.path;
  if (recordedName !== undefined) {
    const beside = join(dirname(resolve(replayPath)), basename(recordedName));
    if (existsSync(beside)) return { tokenizer: beside };
  }

  const recorded = [config.model, config.tokenizer_file, recordedName].filter((value): value is string => typeof value === 'string');
  const detail = recorded.length > 0 ? `it records ${recorded.join(', ')}, which were not found` : 'it records no tokenizer or model';
  throw new UsageError(`cannot find the tokenizer of ${replayPath} (${detail}); pass --tokenizer PATH or --model PATH`);
}

/** Warns when an explicit flag differs from what the replayed file records. */
function warnIfDifferent(flag: string, value: string | number, recorded: unknown, replayPath: string): void {
  if (recorded === undefined || recorded === null) return;
  const same = typeof value === 'string' && typeof recorded === 'string' ? resolve(value) === resolve(recorded) : value === recorded;
  if (!same) log.warn(`${flag} ${value} overrides ${JSON.stringify(recorded)} recorded in ${replayPath}`);
}

export function register(program: Command): void {
  program
    .command('calibrate')
    .description('sample calibration token windows from datasets and write them to a JSON file')
    .option('--dataset <names>', 'dataset name, or several separated by commas (each gets nsamples / count samples); NAME:SPLIT picks a split per dataset')
    .addOption(new Option('--format <format>', 'sample format of downstream datasets; pre-training corpora always use random windows').choices(CALIBRATION_FORMAT_CHOICES).default('icl'))
    .option('--data-dir <dir>', 'root of the local data layout (default: $SCULPT_DATA_DIR)')
    .option('--data <file>', 'read this file instead of searching the data directory (repeatable; one dataset only)', collect, [] as string[])
    .addOption(new Option('--split <split>', "split to sample from (default: the dataset's training split)").choices(SPLIT_CHOICES))
    .option('--tokenizer <path>', 'tokenizer file: llama2.c tok*.bin or Hugging Face tokenizer.json')
    .option('--model <path>', 'model path; its tokenizer is used and seqlen is checked against its context length')
    .option('--nsamples <n>', 'number of samples', positiveInteger('--nsamples'), 128)
    .option('--seqlen <n>', 'tokens per sample', positiveInteger('--seqlen'), 2048)
    .option('--seed <n>', 'seed of the sampler', integer('--seed'), 0)
    .addOption(new Option('--padding <side>', 'side padded formats (zero, single) are padded on').choices(['left', 'right'] as const).default('left' as const))
    .option('--pad-id <id>', 'pad token id (default: the tokenizer pad id; faithful mode: vocabSize, a new [PAD] row)', integer('--pad-id'))
    .addOption(new Option('--mode <mode>', 'faithful: attention mask = ids != pad id, as the reference; clean: every pad masked').choices(['faithful', 'clean'] as const).default('clean' as const))
    .option('--max-attempts <n>', 'document draws per sample before giving up', positiveInteger('--max-attempts'), 10_000)
    .option('--data-seqlen <n>', 'pre-training corpora: windows of this many tokens, left-padded to --seqlen (the reference C4 --data_seqlen)', positiveInteger('--data-seqlen'))
    .option('--num-incontext <k>', 'icl/cot: exactly k examples per sample, padded to --seqlen, instead of a window', positiveInteger('--num-incontext'))
    .option('--cot-steps <s>', 'cot: only examples whose rationale part has exactly s ". " separators', positiveInteger('--cot-steps'))
    .option('--template <template>', 'custom dataset: Q-A template with {field} placeholders, e.g. "Question: {q}\\nAnswer: {answer}"')
    .option('--field <name=source>', 'custom dataset: map a template placeholder to a record field (repeatable; dotted paths allowed)', collect, [] as string[])
    .option('--dataset-option <key=value>', 'extra dataset plugin option, e.g. size=xl for winogrande (repeatable)', collect, [] as string[])
    .option('--replay <file>', 'rebuild the samples of an earlier calibration file from its provenance and settings (datasets default to those it names)')
    .option('--no-hub', 'never download from the Hugging Face hub; local files only')
    .requiredOption('--out <file>', 'output JSON file (written atomically)')
    .action(async (options, command) => {
      const context = getContext(command as unknown as Command);
      const {
        CALIBRATION_DATASET_NAMES,
        DATASET_PLUGIN_VERSION,
        buildMixture,
        isCalibrationDataset,
        loadTokenizer,
        readCalibrationFile,
        readModelContext,
        replayMixture,
        tokenizerPathForModel,
        unknownDatasetError,
        writeCalibrationFile,
      } = await import('@sculpt/datasets');
      const replay = options.replay === undefined ? undefined : await readCalibrationFile(options.replay);
      if (replay !== undefined && replay.provenance === undefined) {
        throw new UsageError(`${options.replay} has no "provenance" list, so its samples cannot be replayed`);
      }
      const datasetList = options.dataset ?? (replay ? [...new Set(replay.provenance!.map((entry) => entry.dataset))].join(',') : undefined);
      if (datasetList === undefined) throw new UsageError('pass --dataset NAME (or --replay FILE)');

      // Each entry is NAME or NAME:SPLIT; a per-dataset split wins over --split.
      const entries = datasetList.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
      const names = entries.map((entry) => entry.split(':')[0]);
      const splits = entries.map((entry) => {
        const split = entry.includes(':') ? entry.slice(entry.indexOf(':') + 1) : undefined;
        if (split !== undefined && !(SPLIT_CHOICES as readonly string[]).includes(split)) {
          throw new UsageError(`invalid split "${split}" in --dataset ${entry}; allowed: ${SPLIT_CHOICES.join(', ')}`);
        }
        return split as Split | undefined;
      });
      if (names.length === 0) throw new UsageError('--dataset is empty; pass a dataset name such as c4 or gsm8k');
      if (options.data.length > 0 && names.length > 1) throw new UsageError('--data applies to one dataset; pass one name to --dataset or use --data-dir');
      if (options.tokenizer !== undefined && options.model !== undefined) {
        throw new UsageError('pass exactly one of --tokenizer PATH or --model PATH');
      }

      // A replay takes the tokenizer, model and seqlen it records; explicit flags still win.
      const seqlenGiven = command.getOptionValueSource('seqlen') !== 'default';
      let source: TokenizerSource = { tokenizer: options.tokenizer, model: options.model };
      let seqlen = options.seqlen;
      if (replay !== undefined) {
        const recorded = replay.config ?? {};
        if (options.model !== undefined) warnIfDifferent('--model', options.model, recorded.model, options.replay!);
        if (options.tokenizer !== undefined) warnIfDifferent('--tokenizer', options.tokenizer, recorded.tokenizer_file, options.replay!);
        if (options.tokenizer === undefined && options.model === undefined) source = recordedTokenizerSource(options.replay!, replay);
        if (seqlenGiven) warnIfDifferent('--seqlen', options.seqlen, replay.seqlen, options.replay!);
        else seqlen = replay.seqlen;
      } else if (source.tokenizer === undefined && source.model === undefined) {
        throw new UsageError('pass exactly one of --tokenizer PATH or --model PATH');
      }

      if (source.model !== undefined) {
        const model = await readModelContext(source.model);
        if (seqlen > model.contextLength) {
          throw new UsageError(`--seqlen ${seqlen} is larger than the model's context length ${model.contextLength} (${model.source}); use --seqlen ${model.contextLength} or less`);
        }
      }
      const tokenizerPath = source.tokenizer ?? (await tokenizerPathForModel(source.model!));
      const tokenizer = await loadTokenizer(tokenizerPath);
      const recordedSha = replay?.tokenizer?.sha256;
      if (recordedSha !== undefined && recordedSha !== tokenizer.identity.sha256) {
        throw new UsageError(`${options.replay} was made with tokenizer ${replay!.tokenizer!.path} (sha256 ${recordedSha}), but ${tokenizer.identity.path} differs; pass the same tokenizer`);
      }

      const fields = parseKeyValues(options.field, '--field');
      const extra = parseKeyValues(options.datasetOption, '--dataset-option');
      const datasets: CalibrationDataset[] = [];
      for (const name of names) {
        const builtin = CALIBRATION_DATASET_NAMES.includes(name);
        const pluginOptions: Record<string, unknown> = { ...extra };
        // Source options go to the built-in file-backed datasets only; other plugins get --dataset-option values.
        if (builtin && name !== 'ellipses' && name !== 'random') {
          if (options.dataDir !== undefined) pluginOptions.dataDir = options.dataDir;
          if (options.data.length > 0) pluginOptions.files = options.data;
          pluginOptions.hub = options.hub;
        }
        if (name === 'custom') {
          if (options.template !== undefined) pluginOptions.template = options.template.replace(/\\n/g, '\n');
          if (Object.keys(fields).length > 0) pluginOptions.fields = fields;
        }
        const notCalibration = new UsageError(
          `dataset "${name}" does not produce calibration text; calibration datasets: ${CALIBRATION_DATASET_NAMES.join(', ')} (or a --plugin dataset that implements calibration)`,
        );
        if (!(await context.registry.has('dataset', name))) throw unknownDatasetError(name, 'calibration', await context.registry.names('dataset'));
        let instance: unknown;
        try {
          instance = await context.registry.create('dataset', name, pluginOptions, { signal: context.signal });
        } catch (error) {
          // A registered non-calibration dataset (e.g. mbpp) may reject the options before it can be checked.
          const known = await context.registry.has('dataset', name);
          throw known && !builtin && error instanceof UsageError ? notCalibration : error;
        }
        if (!isCalibrationDataset(instance)) throw notCalibration;
        datasets.push(instance);
      }

      const request: CalibrationRequest = {
        tokenizer,
        format: options.format as CalibrationFormat,
        nsamples: options.nsamples,
        seqlen,
        seed: options.seed,
        split: options.split as Split | undefined,
        padding: options.padding as PaddingSide,
        padId: options.padId,
        mode: options.mode as RunMode,
        maxAttempts: options.maxAttempts,
        dataSeqlen: options.dataSeqlen,
        numInContext: options.numIncontext,
        cotSteps: options.cotSteps,
        signal: context.signal,
      };

      let set: CalibrationSet;
      let config: Record<string, unknown>;
      if (replay !== undefined) {
        // The recorded settings win, so the rebuilt samples match the recorded ones.
        const recorded = replay.config ?? {};
        const replayRequest = { ...request, ...settingsFromConfig(recorded) };
        log.info(`replaying ${replay.provenance!.length} samples of ${options.replay}`);
        set = await replayMixture(datasets, replay.provenance!, replayRequest);
        config = { ...recorded, seqlen, model: source.model === undefined ? null : resolve(source.model), tokenizer_file: tokenizer.identity.path };
      } else {
        log.info(`sampling ${request.nsamples} x ${request.seqlen} tokens from ${names.join(', ')} (${request.format}, seed ${request.seed})`);
        const total = Math.floor(request.nsamples / names.length) * names.length;
        const task = context.progress.start({ label: 'calibrate', total, unit: 'samples' });
        let mixture;
        try {
          mixture = await buildMixture(datasets, { ...request, onSample: () => task.increment() }, splits);
        } finally {
          task.finish();
        }
        set = mixture;
        config = {
          datasets: mixture.parts,
          format: request.format,
          nsamples: options.nsamples,
          seqlen,
          seed: options.seed,
          split: options.split ?? null,
          padding: set.padding,
          pad_id: set.padId,
          mode: options.mode,
          max_attempts: options.maxAttempts,
          data_seqlen: options.dataSeqlen ?? null,
          num_incontext: options.numIncontext ?? null,
          cot_steps: options.cotSteps ?? null,
          sampler_version: DATASET_PLUGIN_VERSION,
          // Absolute paths, so that --replay can find the tokenizer again on this machine.
          model: source.model === undefined ? null : resolve(source.model),
          tokenizer_file: tokenizer.identity.path,
        };
      }
      const format = set.format;
      const out = resolve(options.out);
      await writeCalibrationFile(out, set, tokenizer.identity, config);

      const parts = (config.datasets ?? []) as { dataset: string; split: string; format: string; nsamples: number }[];
      const summary = {
        out,
        samples: set.samples.length,
        seqlen: set.seqlen,
        format,
        padded: set.attentionMask !== undefined,
        datasets: parts.map((part) => `${part.dataset}:${part.split}:${part.nsamples}${part.format !== format ? ` (${part.format})` : ''}`).join(', '),
        tokenizer: `${tokenizer.identity.kind} ${tokenizer.identity.path}`,
      };
      output(context.globals.json ? { ...summary, datasets: parts, tokenizer: tokenizer.identity, config } : summary, { json: context.globals.json });
    });
}
