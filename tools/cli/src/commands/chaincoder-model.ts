/**
 * `sculpt chaincoder problems`, `train`, `generate` and `eval`: export the
 * problems of a code dataset split, train a ChainCoder model, generate
 * programs with it, and score candidates in the Python sandbox (pass@k,
 * example-filtered pass@k, decodability and run-without-error rates).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { resolve } from 'node:path';
import { UsageError, getLogger, writeFileAtomic, type Decoder } from '@sculpt/core';
import type { CodeDataset, CodeDatasetContext, CodeProblem, CodeSplit } from '@sculpt/datasets';
import type { DataSpec, ModelSizes, PythonSandbox, TrainedModel } from '@sculpt/chaincoder';
import type { Device } from '@sculpt/runtime-gpu';
import { getContext, type CliContext } from '../context.js';
import { output } from '../output.js';
import { collect, parseKeyValues, positiveInteger } from '../option-parsers.js';

// The heavy packages load inside the actions, so `sculpt --help` stays fast.
const loadDatasets = () => import('@sculpt/datasets');
const loadChaincoder = () => import('@sculpt/chaincoder');

/** The problem splits, written out so registering the command loads no package; checked by lazy-imports.test.ts. */
export const CODE_SPLIT_CHOICES = ['train', 'validation', 'test'] as const satisfies readonly CodeSplit[];

function positiveNumber(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0) throw new UsageError(`${name} must be a positive number, got "${value}"`);
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
    .addOption(new Option('--split <split>', 'problem split').choices(CODE_SPLIT_CHOICES).default('test'));
  return command;
}

async function loadProblems(context: CliContext, flags: DataFlags, sandbox: PythonSandbox | undefined, extra: Record<string, unknown> = {}): Promise<CodeProblem[]> {
  const dataset = await openCodeDataset(context, flags, sandbox, extra);
  return dataset.problems(flags.split as CodeSplit);
}

/**
 * Creates the code dataset `flags.data` with the shared flags (--set,
 * --data-dir, --data-file) and then `extra`, whose keys take precedence.
 */
async function openCodeDataset(context: CliContext, flags: DataFlags, sandbox: PythonSandbox | undefined, extra: Record<string, unknown> = {}): Promise<CodeDataset> {
  const options: Record<string, unknown> = parseKeyValues(flags.set, '--set');
  if (flags.dataDir !== undefined) options.dataDir = resolve(flags.dataDir);
  if (flags.dataFile.length > 0) options.files = flags.dataFile.map((file) => resolve(file));
  Object.assign(options, extra);
  if (!(await context.registry.has('dataset', flags.data))) {
    throw (await loadDatasets()).unknownDatasetError(flags.data, 'code', await context.registry.names('dataset'));
  }
  const plugin = await context.registry.get('dataset', flags.data);
  const parsed = await context.registry.parseOptions('dataset', flags.data, options);
  // The runner rides along in the context: function-style datasets record their tests by running reference solutions.
  const pluginContext: CodeDatasetContext = { logger: getLogger(`dataset:${flags.data}`), signal: context.signal, runner: sandbox };
  const dataset = (await plugin.create(parsed as never, pluginContext)) as Partial<CodeDataset>;
  if (dataset.kind !== 'code' || typeof dataset.problems !== 'function') {
    throw new UsageError(`Dataset "${flags.data}" is not a code dataset; use generated-stdin, apps, code-contests, mbpp or humaneval.`);
  }
  return dataset as CodeDataset;
}

/** Datasets whose problems are function-style and get their tests by running reference solutions in the sandbox. */
const NEEDS_RUNNER = ['mbpp', 'humaneval', 'apps'];

/**
 * Loads the train and validation problems of every `--data` spec. Paths in a
 * spec (dataDir, files) are resolved against the working directory. A spec
 * with `resplit` pools all splits of its dataset and divides them by problem id.
 */
async function loadTrainingData(context: CliContext, flags: DataFlags, specs: readonly DataSpec[], seed: number, sandbox: PythonSandbox | undefined): Promise<{ train: CodeProblem[]; validation: CodeProblem[] }> {
  const chaincoder = await loadChaincoder();
  const train: CodeProblem[] = [];
  const validation: CodeProblem[] = [];
  for (const spec of specs) {
    const extra: Record<string, unknown> = { ...spec.options };
    if (typeof extra.dataDir === 'string') extra.dataDir = resolve(extra.dataDir);
    if (Array.isArray(extra.files)) extra.files = extra.files.map((file) => resolve(String(file)));
    const dataset = await openCodeDataset(context, { ...flags, data: spec.name }, sandbox, extra);
    let parts: { train: CodeProblem[]; validation: CodeProblem[] };
    if (spec.resplit === undefined) {
      parts = { train: await dataset.problems('train'), validation: await dataset.problems('validation') };
    } else {
      const all = [...(await dataset.problems('train')), ...(await dataset.problems('validation')), ...(await dataset.problems('test'))];
      parts = chaincoder.resplitProblems(all, spec.resplit, seed);
    }
    log.info(() => `${spec.name}: ${parts.train.length} training and ${parts.validation.length} validation problems${spec.resplit === undefined ? '' : ` (split by problem id, ${spec.resplit} held out)`}`);
    if (parts.train.length === 0) log.warn(`${spec.name} has no training problems; add resplit=0.1 to its --data spec to divide all its problems by id.`);
    train.push(...parts.train);
    validation.push(...parts.validation);
  }
  chaincoder.checkDistinctIds([...train, ...validation]);
  return { train, validation };
}

/** Reads `{"problem": id, "programs": [source or null, ...]}` records (JSON lines or a JSON array). */
async function readCandidates(file: string, signal: AbortSignal): Promise<Map<string, (string | null)[]>> {
  const candidates = new Map<string, (string | null)[]>();
  for await (const record of (await loadDatasets()).readRecords(file, { signal })) {
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

const log = getLogger('cli:chaincoder');

function chaincoderCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'chaincoder');
  if (existing !== undefined) return existing as unknown as Command;
  return program.command('chaincoder').description('ChainCoder: syntax-aware coarse-to-fine program synthesis') as unknown as Command;
}


/**
 * Returns the device for ChainCoder work: webgpu only when requested, because
 * bit-exact resume is guaranteed on the cpu device only.
 */
async function chaincoderDevice(request: string): Promise<Device> {
  const { getCpuDevice, getDevice } = await import('@sculpt/runtime-gpu');
  return request === 'webgpu' ? getDevice('webgpu') : getCpuDevice();
}

const DECODERS = ['greedy', 'sample', 'beam', 'coarse-to-fine'] as const;
type DecoderName = (typeof DECODERS)[number];

interface GenerationFlags {
  decoder: DecoderName;
  n: number;
  temperature: number;
  maxNewTokens: number;
  seed: number;
  descriptionOnnx?: string;
  descriptionTokenizer?: string;
}

function addGenerationOptions<T extends Command>(command: T, defaultN: number): T {
  command
    .addOption(new Option('--decoder <name>', 'decoder: greedy, sample (temperature), beam (width n) or coarse-to-fine (constrained; greedy for n = 1, sampled otherwise)').choices(DECODERS).default('coarse-to-fine' as DecoderName))
    .option('--n <count>', 'candidates per problem', positiveInteger('--n'), defaultN)
    .option('--temperature <t>', 'sampling temperature (sample, and coarse-to-fine with n > 1)', positiveNumber('--temperature'), 0.8)
    .option('--max-new-tokens <count>', 'token budget per candidate', positiveInteger('--max-new-tokens'), 400)
    .option('--seed <n>', 'seed of the sampling generator and of the drawn examples', (value: string) => Number.parseInt(value, 10), 0)
    .option('--description-onnx <file>', 'ONNX description encoder in place of the path recorded at training (models trained with --description-onnx; must have the recorded SHA-256)')
    .option('--description-tokenizer <file>', 'description tokenizer.json in place of the path recorded at training');
  return command;
}

async function createDecoder(context: CliContext, flags: GenerationFlags, modelDir: string): Promise<Decoder> {
  if (flags.decoder === 'greedy' && flags.n > 1) throw new UsageError('--decoder greedy returns the same program n times; use --n 1, or sample, beam or coarse-to-fine.');
  const sampling = { temperature: flags.temperature, seed: flags.seed };
  switch (flags.decoder) {
    case 'greedy':
      return (await context.registry.create('decoder', 'greedy', {})) as Decoder;
    case 'sample':
      return (await context.registry.create('decoder', 'sample', sampling)) as Decoder;
    case 'beam':
      return (await context.registry.create('decoder', 'beam', { width: flags.n, numReturn: flags.n })) as Decoder;
    case 'coarse-to-fine':
      return (await context.registry.create('decoder', 'coarse-to-fine', { model: modelDir, mode: flags.n > 1 ? 'sample' : 'greedy', ...sampling })) as Decoder;
  }
}

/** Generates n candidates per problem; returns problem id → programs (null where the tokens do not decode). */
async function generateFor(trained: TrainedModel, decoder: Decoder, problems: readonly CodeProblem[], flags: GenerationFlags): Promise<Map<string, { programs: (string | null)[]; failures: (string | null)[] }>> {
  const prompts = (await loadChaincoder()).preparePrompts(problems, { mode: 'lossless' });
  const result = new Map<string, { programs: (string | null)[]; failures: (string | null)[] }>();
  for (const prompt of prompts) {
    const generated = await (await loadChaincoder()).generateCandidates(trained.model, trained.vocabularies, prompt, decoder, {
      n: flags.n,
      maxNewTokens: flags.maxNewTokens,
      mode: 'lossless',
      seed: flags.seed,
      sequencesFromOnePrompt: flags.decoder === 'beam',
      descriptionFeatures: trained.descriptionFeatures,
    });
    result.set(prompt.id, { programs: generated.programs, failures: generated.failures });
  }
  return result;
}

/** Reads problems from a JSON file (one problem or a list) or JSON lines, as `chaincoder problems` writes them. */
async function readProblemFile(file: string, signal: AbortSignal): Promise<CodeProblem[]> {
  const problems: CodeProblem[] = [];
  for await (const record of (await loadDatasets()).readRecords(file, { signal })) {
    const value = record.value as Partial<CodeProblem>;
    if (typeof value.id !== 'string' || typeof value.description !== 'string' || !Array.isArray(value.examples)) {
      throw new UsageError(`${file}: record ${record.index + 1} is not a code problem; it needs "id", "description" and "examples" (write one with \`sculpt chaincoder problems\`).`);
    }
    problems.push({ tests: [], solutions: [], ...value } as CodeProblem);
  }
  if (problems.length === 0) throw new UsageError(`${file} contains no problems.`);
  return problems;
}

interface TrainFlags {
  out: string;
  resume: boolean;
  steps: number;
  batchSize: number;
  accumulate: number;
  f16: boolean;
  lr: number;
  warmup: number;
  seed: number;
  checkpointEvery: number;
  validateEvery: number;
  dim?: number;
  heads?: number;
  hiddenDim?: number;
  sampleLayers?: number;
  descriptionLayers?: number;
  encoderLayers?: number;
  decoderLayers?: number;
  maxTargetLength?: number;
  maxIoLength?: number;
  maxDescriptionLength?: number;
  descriptionOnnx?: string;
  descriptionTokenizer?: string;
}

function modelSizes(flags: TrainFlags): ModelSizes {
  const sizes: ModelSizes = {
    dim: flags.dim,
    heads: flags.heads,
    hiddenDim: flags.hiddenDim,
    sampleEmbedderLayers: flags.sampleLayers,
    descriptionLayers: flags.descriptionLayers,
    encoderLayers: flags.encoderLayers,
    decoderLayers: flags.decoderLayers,
    maxTargetLength: flags.maxTargetLength,
    maxIoLength: flags.maxIoLength,
    maxDescriptionLength: flags.maxDescriptionLength,
  };
  return Object.fromEntries(Object.entries(sizes).filter(([, value]) => value !== undefined)) as ModelSizes;
}

/** Returns the --description-onnx and --description-tokenizer paths, resolved; undefined when neither is given. */
function descriptionEncoderPaths(flags: { descriptionOnnx?: string; descriptionTokenizer?: string }): { model?: string; tokenizer?: string } | undefined {
  if (flags.descriptionOnnx === undefined && flags.descriptionTokenizer === undefined) return undefined;
  return {
    model: flags.descriptionOnnx === undefined ? undefined : resolve(flags.descriptionOnnx),
    tokenizer: flags.descriptionTokenizer === undefined ? undefined : resolve(flags.descriptionTokenizer),
  };
}

/** Loads a trained model, with the description encoder files given again on the command line, if any. */
async function loadModelFolder(dir: string, device: Device, flags: { descriptionOnnx?: string; descriptionTokenizer?: string }): Promise<TrainedModel> {
  const paths = descriptionEncoderPaths(flags);
  return (await loadChaincoder()).loadTrainedModel(resolve(dir), device, { descriptionOnnx: paths?.model, descriptionTokenizer: paths?.tokenizer });
}

function registerTrain(parent: Command): void {
  addTrainDataOptions(
    parent
      .command('train')
      .description('train a ChainCoder model (miniature sizes by default) with checkpoints, metrics in results.sqlite and a loss curve')
      .requiredOption('--out <dir>', 'output folder: checkpoint/, results.sqlite, loss-curve.svg, cooccurrence.json')
      .option('--resume', 'continue from the checkpoint in --out (its config, vocabularies and settings are used)', false)
      .option('--steps <count>', 'total optimizer updates, counted from step 0', positiveInteger('--steps'), 200)
      .option('--batch-size <count>', 'problems per micro-batch', positiveInteger('--batch-size'), 8)
      .option('--accumulate <count>', 'micro-batches per optimizer update; an update sees batch-size × accumulate problems', positiveInteger('--accumulate'), 1)
      .option('--f16', 'store activations as f16 (webgpu with shader-f16 only); weights and optimizer stay f32, with dynamic loss scaling', false)
      .option('--lr <rate>', 'peak learning rate', positiveNumber('--lr'), 1e-3)
      .option('--warmup <steps>', 'linear warmup steps before the inverse-square-root decay', (value: string) => Number.parseInt(value, 10), 20)
      .option('--seed <n>', 'seed of the initialization, batches and drawn samples', (value: string) => Number.parseInt(value, 10), 0)
      .option('--checkpoint-every <steps>', 'write a checkpoint every this many steps (and at the end)', positiveInteger('--checkpoint-every'), 50)
      .option('--validate-every <steps>', 'record validation metrics every this many steps (and at the end)', positiveInteger('--validate-every'), 50)
      .option('--dim <n>', 'model width (miniature: 128)', positiveInteger('--dim'))
      .option('--heads <n>', 'attention heads (miniature: 4)', positiveInteger('--heads'))
      .option('--hidden-dim <n>', 'feed-forward inner size (miniature: 512)', positiveInteger('--hidden-dim'))
      .option('--sample-layers <n>', 'sample-embedder layers (miniature: 1)', positiveInteger('--sample-layers'))
      .option('--description-layers <n>', 'description-encoder layers (miniature: 2)', positiveInteger('--description-layers'))
      .option('--encoder-layers <n>', 'encoder layers (miniature: 2)', positiveInteger('--encoder-layers'))
      .option('--decoder-layers <n>', 'decoder layers (miniature: 4)', positiveInteger('--decoder-layers'))
      .option('--max-target-length <n>', 'longest program target in tokens; longer programs are left out (miniature: 512)', positiveInteger('--max-target-length'))
      .option('--max-io-length <n>', 'longest aligned I/O sequence (miniature: 256)', positiveInteger('--max-io-length'))
      .option('--max-description-length <n>', 'description subwords kept (miniature: 128; with --description-onnx: encoder tokens kept, default 512)', positiveInteger('--max-description-length'))
      .option('--description-onnx <file>', 'frozen pretrained ONNX text encoder (e.g. BERT) in place of the trainable description encoder; needs --description-tokenizer. On --resume, replaces the recorded path and must have the recorded SHA-256')
      .option('--description-tokenizer <file>', 'Hugging Face tokenizer.json of the --description-onnx encoder'),
  ).action(async (commandFlags, command) => {
    const flags = commandFlags as unknown as TrainFlags & Omit<DataFlags, 'data'> & { data: string[] };
    const context = getContext(command as unknown as Command);
    for (const [name, value] of [['--warmup', flags.warmup], ['--seed', flags.seed]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`${name} must be a non-negative integer, got ${String(value)}`);
    }
    if (!flags.resume && (flags.descriptionOnnx === undefined) !== (flags.descriptionTokenizer === undefined)) {
      throw new UsageError('--description-onnx and --description-tokenizer must be given together: pass the ONNX encoder and its tokenizer.json.');
    }
    const chaincoder = await loadChaincoder();
    const specs = chaincoder.parseDataSpecs(flags.data.length > 0 ? flags.data : ['generated-stdin']);
    const device = await chaincoderDevice(context.globals.device);
    // Checked before the data is loaded, which can take minutes.
    if (flags.f16) chaincoder.checkF16Activations(device);
    const needsRunner = specs.some((spec) => NEEDS_RUNNER.includes(spec.name));
    const sandbox = needsRunner ? await chaincoder.PythonSandbox.create() : undefined;
    try {
      const { train, validation } = await loadTrainingData(context, { ...flags, data: '', split: 'train' }, specs, flags.seed, sandbox);
      const report = await chaincoder.runTraining({
        device,
        out: resolve(flags.out),
        train,
        validation,
        data: specs.map((spec) => chaincoder.formatDataSpec(spec)),
        model: modelSizes(flags),
        steps: flags.steps,
        batchSize: flags.batchSize,
        accumulate: flags.accumulate,
        activations: flags.f16 ? 'f16' : 'f32',
        peakLr: flags.lr,
        warmupSteps: flags.warmup,
        seed: flags.seed,
        maxGradNorm: 0.5,
        resume: flags.resume,
        checkpointEvery: flags.checkpointEvery,
        validateEvery: flags.validateEvery,
        descriptionEncoder: descriptionEncoderPaths(flags),
        signal: context.signal,
      });
      output({ device: device.kind, ...report }, { json: context.globals.json });
    } finally {
      await sandbox?.close();
    }
  });
}

/** Adds the training data flags: repeatable --data specs plus the shared flags of addDataOptions, without --split. */
function addTrainDataOptions<T extends Command>(command: T): T {
  command
    .option(
      '--data <spec>',
      'training dataset NAME[:KEY=VALUE]... (repeatable): generated-stdin, apps, code-contests, mbpp or humaneval with its own options, e.g. apps:dataDir=DIR, mbpp:files=FILE:resplit=0.1 (resplit divides all its problems by id, holding out that fraction for validation); default generated-stdin',
      collect,
      [] as string[],
    )
    .option('--data-dir <dir>', 'dataset directory given to every --data dataset (apps: the folder holding train/ and test/)')
    .option('--data-file <file>', 'dataset file given to every --data dataset (code-contests, mbpp, humaneval; repeatable)', collect, [] as string[])
    .option('--set <key=value>', 'plugin option given to every --data dataset, e.g. count=200 (repeatable); options inside a --data spec take precedence', collect, [] as string[]);
  return command;
}

function registerGenerate(parent: Command): void {
  addGenerationOptions(
    parent
      .command('generate')
      .description('generate Python programs for problems with a trained ChainCoder model')
      .requiredOption('--model <dir>', 'output folder of `sculpt chaincoder train`')
      .requiredOption('--problem <file>', 'problem file: JSON (one problem or a list) or JSON lines, as `chaincoder problems` writes'),
    1,
  ).action(async (commandFlags, command) => {
    const flags = commandFlags as unknown as GenerationFlags & { model: string; problem: string };
    const context = getContext(command as unknown as Command);
    const problems = await readProblemFile(resolve(flags.problem), context.signal);
    const device = await chaincoderDevice(context.globals.device);
    const trained = await loadModelFolder(flags.model, device, flags);
    try {
      const decoder = await createDecoder(context, flags, resolve(flags.model));
      const generated = await generateFor(trained, decoder, problems, flags);
      const results = problems.map((problem) => ({ problem: problem.id, ...generated.get(problem.id)! }));
      const human = results
        .map((result) => result.programs.map((program, index) => `# ${result.problem} candidate ${index + 1}${program === null ? `: not a program (${result.failures[index]})` : ''}\n${program ?? ''}`).join('\n'))
        .join('\n');
      output({ decoder: flags.decoder, n: flags.n, results }, { json: context.globals.json, human });
    } finally {
      await trained.dispose();
    }
  });
}

export function register(program: Command): void {
  const parent = chaincoderCommand(program);
  registerTrain(parent);
  registerGenerate(parent);

  addDataOptions(
    parent
      .command('problems')
      .description('write the problems of a code dataset split as JSON lines (id, description, examples, hidden tests, solutions)')
      .requiredOption('--out <file>', 'output file (.jsonl)'),
  ).action(async (commandFlags, command) => {
    const flags = commandFlags as typeof commandFlags & DataFlags;
    const context = getContext(command as unknown as Command);
    const needsRunner = NEEDS_RUNNER.includes(flags.data);
    const sandbox = needsRunner ? await (await loadChaincoder()).PythonSandbox.create() : undefined;
    try {
      const problems = await loadProblems(context, flags, sandbox);
      await writeFileAtomic(resolve(flags.out), problems.map((problem) => JSON.stringify(problem)).join('\n') + (problems.length > 0 ? '\n' : ''));
      output({ dataset: flags.data, split: flags.split, problems: problems.length, out: resolve(flags.out) }, { json: context.globals.json });
    } finally {
      await sandbox?.close();
    }
  });

  addGenerationOptions(
    addDataOptions(
      parent
        .command('eval')
        .description('score candidate programs in the Python sandbox (from --candidates, or generated with --model): pass@k, example-filtered pass@k, decodability and run-without-error rates')
        .option('--candidates <file>', 'JSON lines of {"problem": id, "programs": [source or null, ...]}, the same count for every problem')
        .option('--model <dir>', 'output folder of `sculpt chaincoder train`; candidates are generated for every problem of the split')
        .option('--limit <count>', 'with --model: score only the first this many problems of the split', positiveInteger('--limit'))
        .option('--k <list>', 'comma-separated k values for pass@k', parseKs, [1, 5])
        .option('--timeout <ms>', 'wall-clock limit per test case in milliseconds', positiveInteger('--timeout'), 4000)
        .addOption(new Option('--comparison <rule>', 'output comparison: exact-lines (trailing whitespace ignored) or compat (the reference lossy rule)').choices(['exact-lines', 'compat'] as const).default('exact-lines' as const))
        .addOption(new Option('--isolation <kind>', 'sandbox isolation layer').choices(['auto', 'unshare', 'bwrap'] as const).default('auto' as const))
        .option('--details', 'include per-problem results', false),
    ),
    10,
  ).action(async (commandFlags, command) => {
    const flags = commandFlags as unknown as DataFlags & GenerationFlags & {
      candidates?: string;
      model?: string;
      limit?: number;
      k: number[];
      timeout: number;
      comparison: 'exact-lines' | 'compat';
      isolation: 'auto' | 'unshare' | 'bwrap';
      details: boolean;
    };
    const context = getContext(command as unknown as Command);
    const nGiven = command.getOptionValueSource('n') === 'cli' || command.getOptionValueSource('n') === 'config';
    if ((flags.model === undefined) === (flags.candidates === undefined)) throw new UsageError('Pass either --candidates FILE (programs to score) or --model DIR (a trained model to generate them).');
    const tooLarge = flags.model === undefined ? [] : flags.k.filter((k) => k > flags.n);
    if (tooLarge.length > 0) throw new UsageError(`--k ${tooLarge.join(',')} exceeds --n ${flags.n}; pass@k needs at least k candidates.`);
    const sandbox = await (await loadChaincoder()).PythonSandbox.create({ isolation: flags.isolation, limits: { timeoutMs: flags.timeout } });
    try {
      let candidates: Map<string, (string | null)[]>;
      let problems = await loadProblems(context, flags, sandbox);
      if (flags.model !== undefined) {
        if (flags.limit !== undefined) problems = problems.slice(0, flags.limit);
        if (problems.length === 0) throw new UsageError(`The ${flags.split} split of ${flags.data} has no problems.`);
        const device = await chaincoderDevice(context.globals.device);
        const trained = await loadModelFolder(flags.model, device, flags);
        try {
          const decoder = await createDecoder(context, flags, resolve(flags.model));
          // The model is conditioned on I/O examples, so a problem without any cannot be prompted; it is reported as skipped.
          const promptable = problems.filter((problem) => problem.examples.length > 0);
          if (promptable.length === 0) throw new UsageError(`No problem of the ${flags.split} split of ${flags.data} has an I/O example to prompt the model with.`);
          if (promptable.length < problems.length) log.warn(`${problems.length - promptable.length} problems have no I/O examples and are skipped.`);
          const generated = await generateFor(trained, decoder, promptable, flags);
          candidates = new Map([...generated].map(([id, result]) => [id, result.programs]));
        } finally {
          await trained.dispose();
        }
      } else {
        candidates = await readCandidates(resolve(flags.candidates!), context.signal);
        if (nGiven) {
          for (const [id, programs] of candidates) {
            if (programs.length < flags.n) throw new UsageError(`Problem ${id} has ${programs.length} candidates, fewer than --n ${flags.n}.`);
            candidates.set(id, programs.slice(0, flags.n));
          }
        }
        problems = problems.filter((problem) => candidates.has(problem.id));
        if (problems.length === 0) {
          throw new UsageError(`None of the problem ids in ${flags.candidates} belongs to the ${flags.split} split of ${flags.data}.`);
        }
      }
      const report = await (await loadChaincoder()).evaluateCandidates(sandbox, problems, candidates, { ks: flags.k, comparison: flags.comparison, signal: context.signal });
      const summary = {
        dataset: flags.data,
        split: flags.split,
        source: flags.model === undefined ? 'candidates' : `model (${flags.decoder})`,
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
