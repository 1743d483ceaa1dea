/**
 * The miniature end to end: train on the training split of code problems,
 * report the validation loss, then generate candidates for held-out problems
 * with plain and constrained decoding and score them in the sandbox.
 */
import { Registry, getLogger, type Decoder } from '@sculpt/core';
import type { CodeProblem } from '@sculpt/datasets';
import type { Device } from '@sculpt/runtime-gpu';
import { buildCooccurrence, splitSegments } from '../decode/coarse-to-fine.js';
import { generateCandidates, outputLayout } from '../decode/generate.js';
import { evaluateCandidates, type EvaluationReport } from '../eval/evaluate.js';
import { buildCodeVocabularies, prepareProblems, type CodeVocabularies, type PreparedProblem } from '../model/features.js';
import { ChainCoderModel } from '../model/model.js';
import type { ChainCoderConfig } from '../model/config.js';
import type { PythonSandbox } from '../sandbox/sandbox.js';
import { MINIATURE_CURRICULUM } from './curriculum.js';
import { Trainer, type StepRecord } from './trainer.js';

const log = getLogger('chaincoder:experiment');

export interface ExperimentOptions {
  device: Device;
  sandbox: PythonSandbox;
  train: CodeProblem[];
  validation: CodeProblem[];
  heldOut: CodeProblem[];
  /** Everything but the vocabulary sizes, which come from the training split. */
  config: Omit<ChainCoderConfig, 'inputVocab' | 'outputVocab' | 'descriptionVocab'>;
  steps: number;
  batchSize: number;
  peakLr: number;
  warmupSteps: number;
  seed: number;
  /** Candidates per held-out problem for sampling; greedy decodes one. */
  samples: number;
  temperature: number;
  maxNewTokens: number;
}

export interface ExperimentReport {
  parameters: number;
  trainProblems: number;
  firstLoss: number;
  lastLoss: number;
  validationLossBefore: number;
  validationLossAfter: number;
  steps: StepRecord[];
  /** Decoder name → evaluation of its candidates on the held-out problems. */
  evaluations: Record<string, EvaluationReport>;
  /** Decoder name → share of candidates with three separators and len(S3) = len(S4). */
  wellFormedRates: Record<string, number>;
  /** Decoder name → count of candidates per decode failure reason (`ok` for decoded programs). */
  decodeOutcomes: Record<string, Record<string, number>>;
}

/** Returns the output-vocabulary ids of every training target without BOS and EOS, for `buildCooccurrence`. */
export function targetIds(vocabularies: CodeVocabularies, problems: readonly PreparedProblem[]): number[][] {
  const output = vocabularies.output;
  const separator = output.specialId('separator');
  return problems.flatMap((problem) =>
    problem.programs.map((program) => [
      ...output.encodeIds(program.s1),
      separator,
      ...output.encodeIds(program.s2),
      separator,
      ...output.encodeIds(program.s3),
      separator,
      ...output.encodeIds(program.s4),
    ]),
  );
}

export async function runExperiment(options: ExperimentOptions): Promise<ExperimentReport> {
  const tokenizer = { mode: 'lossless' as const };
  const maxTargetLength = options.config.maxTargetLength;
  const train = (await prepareProblems(options.train, { tokenizer, includeHiddenTests: true, maxTargetLength })).prepared;
  const validation = (await prepareProblems(options.validation, { tokenizer, includeHiddenTests: false, maxTargetLength })).prepared;
  const vocabularies = buildCodeVocabularies(train, { mode: 'lossless' });
  const config: ChainCoderConfig = {
    ...options.config,
    inputVocab: vocabularies.input.size,
    outputVocab: vocabularies.output.size,
    descriptionVocab: vocabularies.description.size + 2,
  };
  const model = new ChainCoderModel(options.device, config, options.seed);
  const trainer = new Trainer(model, train, vocabularies, {
    steps: options.steps,
    batchSize: options.batchSize,
    seed: options.seed,
    schedule: { peakLr: options.peakLr, warmupSteps: options.warmupSteps, initialLr: 1e-7 },
    curriculum: MINIATURE_CURRICULUM,
    maxGradNorm: 0.5,
  });
  try {
    const validationLossBefore = await trainer.validationLoss(validation);
    const steps = await trainer.run((record) => {
      if (record.step % 10 === 0) log.info(() => `step ${record.step}: loss ${record.loss.toFixed(3)}`);
    });
    const validationLossAfter = await trainer.validationLoss(validation);

    // Held-out problems are prepared from their examples only; their solutions only size the prompt batch.
    const heldOut = (await prepareProblems(options.heldOut, { tokenizer, includeHiddenTests: false, maxTargetLength })).prepared;
    const cooccurrence = buildCooccurrence(targetIds(vocabularies, train), outputLayout(vocabularies.output));
    const registry = new Registry();
    const decoders: [string, Decoder, number, boolean][] = [
      ['greedy', (await registry.create('decoder', 'greedy', {})) as Decoder, 1, false],
      ['constrained-greedy', (await registry.create('decoder', 'constrained', { mode: 'greedy' })) as Decoder, 1, true],
      ['sample', (await registry.create('decoder', 'sample', { temperature: options.temperature, seed: options.seed })) as Decoder, options.samples, false],
      ['constrained-sample', (await registry.create('decoder', 'constrained', { mode: 'sample', temperature: options.temperature, seed: options.seed })) as Decoder, options.samples, true],
    ];
    const evaluations: Record<string, EvaluationReport> = {};
    const wellFormedRates: Record<string, number> = {};
    const decodeOutcomes: Record<string, Record<string, number>> = {};
    const layout = outputLayout(vocabularies.output);
    for (const [name, decoder, n, constrained] of decoders) {
      const candidates = new Map<string, (string | null)[]>();
      let wellFormed = 0;
      let total = 0;
      const outcomes: Record<string, number> = {};
      for (const problem of heldOut) {
        const generated = await generateCandidates(model, vocabularies, problem, decoder, {
          n,
          maxNewTokens: options.maxNewTokens,
          mode: 'lossless',
          cooccurrence: constrained ? cooccurrence : undefined,
          seed: options.seed,
        });
        candidates.set(problem.id, generated.programs);
        for (const [index, sequence] of generated.sequences.entries()) {
          total++;
          if (splitSegments(sequence, layout) !== null) wellFormed++;
          const reason = generated.failures[index] ?? 'ok';
          outcomes[reason] = (outcomes[reason] ?? 0) + 1;
        }
      }
      wellFormedRates[name] = total === 0 ? 0 : wellFormed / total;
      decodeOutcomes[name] = outcomes;
      const scored = options.heldOut.filter((problem) => candidates.has(problem.id));
      evaluations[name] = await evaluateCandidates(options.sandbox, scored, candidates, { ks: n >= 5 ? [1, 5] : [1] });
      log.info(() => `${name}: decodability ${evaluations[name].rates.decodabilityRate.toFixed(3)}, pass@1 ${evaluations[name].passAtK['pass@1'].toFixed(3)}`);
    }

    const mean = (records: StepRecord[]): number => records.reduce((sum, record) => sum + record.loss, 0) / records.length;
    return {
      parameters: model.parameterCount(),
      trainProblems: train.length,
      firstLoss: mean(steps.slice(0, 5)),
      lastLoss: mean(steps.slice(-5)),
      validationLossBefore,
      validationLossAfter,
      steps,
      evaluations,
      wellFormedRates,
      decodeOutcomes,
    };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
