/**
 * `sculpt chaincoder problems` and `sculpt chaincoder eval`: export the
 * problems of a code dataset split, and score candidate programs for them in
 * the Python sandbox (pass@k, example-filtered pass@k, decodability and
 * run-without-error rates).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { resolve } from 'node:path';
import { UsageError, getLogger, writeFileAtomic } from '@sculpt/core';
import { CODE_SPLITS, readRecords, type CodeDataset, type CodeDatasetContext, type CodeProblem, type CodeSplit } from '@sculpt/datasets';
import { PythonSandbox, evaluateCandidates } from '@sculpt/chaincoder';
import { getContext, type CliContext } from '../context.js';
import { output } from '../output.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function positiveInteger(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/u.test(value.trim()) || !Number.isSafeInteger(number) || number <= 0) {
      throw new UsageError(`${name} must be a positive integer, got "${value}"`);
    }
    return number;
  };
}

function parseKs(value: string): number[] {
  const ks = value.split(',').map((part) => Number(part.trim()));
  if (ks.length === 0 || ks.some((k) => !Number.isSafeInteger(k) || k < 1)) {
    throw new UsageError(`--k must be a comma-separated list of positive integers, got "${value}"`);
  }
  return ks;
}

/** Parses "key=value" pairs; values that parse as JSON (numbers, booleans, lists) are used as such. */
function keyValues(pairs: string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--set expects key=value, got "${pair}"`);
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep the text.
    }
    result[pair.slice(0, at)] = value;
  }
  return result;
}

interface DataFlags {
  data: string;
  dataDir?: string;
  dataFile: string[];
  set: string[];
  split: string;
}

/** Adds the dataset flags. extra-typings cannot see options added in a helper, so actions cast their flags to DataFlags. */
function addDataOptions<T extends Command>(command: T): T {
  command
    .option('--data <name>', 'code dataset plugin: generated-stdin, apps, code-contests, mbpp or humaneval', 'generated-stdin')
    .option('--data-dir <dir>', 'dataset directory (apps: the folder holding train/ and test/)')
    .option('--data-file <file>', 'dataset file (code-contests, mbpp, humaneval; repeatable)', collect, [] as string[])
    .option('--set <key=value>', 'other dataset plugin option, e.g. count=200 or seed=1 (repeatable)', collect, [] as string[])
    .addOption(new Option('--split <split>', 'problem split').choices(CODE_SPLITS).default('test'));
  return command;
}

async function loadProblems(context: CliContext, flags: DataFlags, sandbox: PythonSandbox | undefined): Promise<CodeProblem[]> {
  const options: Record<string, unknown> = keyValues(flags.set);
  if (flags.dataDir !== undefined) options.dataDir = resolve(flags.dataDir);
  if (flags.dataFile.length > 0) options.files = flags.dataFile.map((file) => resolve(file));
  const plugin = await context.registry.get('dataset', flags.data);
  const parsed = await context.registry.parseOptions('dataset', flags.data, options);
  // The runner rides along in the context: function-style datasets record their tests by running reference solutions.
  const pluginContext: CodeDatasetContext = { logger: getLogger(`dataset:${flags.data}`), signal: context.signal, runner: sandbox };
  const dataset = (await plugin.create(parsed as never, pluginContext)) as Partial<CodeDataset>;
  if (dataset.kind !== 'code' || typeof dataset.problems !== 'function') {
    throw new UsageError(`Dataset "${flags.data}" is not a code dataset; use generated-stdin, apps, code-contests, mbpp or humaneval.`);
  }
  return dataset.problems(flags.split as CodeSplit);
}

/** Reads `{"problem": id, "programs": [source or null, ...]}` records (JSON lines or a JSON array). */
async function readCandidates(file: string, signal: AbortSignal): Promise<Map<string, (string | null)[]>> {
  const candidates = new Map<string, (string | null)[]>();
  for await (const record of readRecords(file, { signal })) {
    const value = record.value as { problem?: unknown; programs?: unknown };
    const programs = value.programs;
    if (typeof value.problem !== 'string' || !Array.isArray(programs) || !programs.every((program) => program === null || typeof program === 'string')) {
      throw new UsageError(`${file}: record ${record.index + 1} needs "problem" (a string) and "programs" (strings or null).`);
    }
    if (candidates.has(value.problem)) throw new UsageError(`${file}: problem ${value.problem} appears twice.`);
    candidates.set(value.problem, programs as (string | null)[]);
  }
  return candidates;
}

function chaincoderCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'chaincoder');
  if (existing !== undefined) return existing as unknown as Command;
  return program.command('chaincoder').description('ChainCoder: syntax-aware coarse-to-fine program synthesis') as unknown as Command;
}

export function register(program: Command): void {
  const parent = chaincoderCommand(program);

  addDataOptions(
    parent
      .command('problems')
      .description('write the problems of a code dataset split as JSON lines (id, description, examples, hidden tests, solutions)')
      .requiredOption('--out <file>', 'output file (.jsonl)'),
  ).action(async (commandFlags, command) => {
    const flags = commandFlags as typeof commandFlags & DataFlags;
    const context = getContext(command as unknown as Command);
    const needsRunner = ['mbpp', 'humaneval', 'apps'].includes(flags.data);
    const sandbox = needsRunner ? await PythonSandbox.create() : undefined;
    try {
      const problems = await loadProblems(context, flags, sandbox);
      await writeFileAtomic(resolve(flags.out), problems.map((problem) => JSON.stringify(problem)).join('\n') + (problems.length > 0 ? '\n' : ''));
      output({ dataset: flags.data, split: flags.split, problems: problems.length, out: resolve(flags.out) }, { json: context.globals.json });
    } finally {
      await sandbox?.close();
    }
  });

  addDataOptions(
    parent
      .command('eval')
      .description('score candidate programs in the Python sandbox: pass@k, example-filtered pass@k, decodability and run-without-error rates')
      .option('--candidates <file>', 'JSON lines of {"problem": id, "programs": [source or null, ...]}, the same count for every problem')
      .option('--model <dir>', 'trained ChainCoder model directory to generate candidates with')
      .option('--n <count>', 'candidates per problem to use (default: all in the file)', positiveInteger('--n'))
      .option('--k <list>', 'comma-separated k values for pass@k', parseKs, [1, 5])
      .option('--timeout <ms>', 'wall-clock limit per test case in milliseconds', positiveInteger('--timeout'), 4000)
      .addOption(new Option('--comparison <rule>', 'output comparison: exact-lines (trailing whitespace ignored) or compat (the reference lossy rule)').choices(['exact-lines', 'compat'] as const).default('exact-lines' as const))
      .addOption(new Option('--isolation <kind>', 'sandbox isolation layer').choices(['auto', 'unshare', 'bwrap'] as const).default('auto' as const))
      .option('--details', 'include per-problem results', false),
  ).action(async (commandFlags, command) => {
    const flags = commandFlags as typeof commandFlags & DataFlags;
    const context = getContext(command as unknown as Command);
    if (flags.model !== undefined) {
      // TODO: generate candidates with a trained ChainCoder model (needs the model, training engine and the KV-cached DecodingModel adapter).
      throw new UsageError('--model is not available yet: ChainCoder model loading is not implemented. Generate candidates elsewhere and pass --candidates.');
    }
    if (flags.candidates === undefined) throw new UsageError('Pass --candidates FILE with the programs to score.');
    const candidates = await readCandidates(resolve(flags.candidates), context.signal);
    if (flags.n !== undefined) {
      for (const [id, programs] of candidates) {
        if (programs.length < flags.n) throw new UsageError(`Problem ${id} has ${programs.length} candidates, fewer than --n ${flags.n}.`);
        candidates.set(id, programs.slice(0, flags.n));
      }
    }
    const sandbox = await PythonSandbox.create({ isolation: flags.isolation, limits: { timeoutMs: flags.timeout } });
    try {
      const problems = (await loadProblems(context, flags, sandbox)).filter((problem) => candidates.has(problem.id));
      if (problems.length === 0) {
        throw new UsageError(`None of the problem ids in ${flags.candidates} belongs to the ${flags.split} split of ${flags.data}.`);
      }
      const report = await evaluateCandidates(sandbox, problems, candidates, { ks: flags.k, comparison: flags.comparison, signal: context.signal });
      const summary = {
        dataset: flags.data,
        split: flags.split,
        isolation: sandbox.isolation,
        timeoutMs: flags.timeout,
        problems: report.problems,
        skipped: report.skipped.length,
        samplesPerProblem: report.samplesPerProblem,
        comparison: report.comparison,
        passAtK: report.passAtK,
        filteredPassAtK: report.filteredPassAtK,
        ...report.rates,
      };
      const result = flags.details
        ? { ...summary, perProblem: report.perProblem.map(({ outcomes: _outcomes, ...counts }) => counts) }
        : summary;
      output(result, { json: context.globals.json });
    } finally {
      await sandbox.close();
    }
  });
}
