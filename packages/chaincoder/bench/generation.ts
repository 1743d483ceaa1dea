/**
 * Generation throughput of the ChainCoder miniature on the cpu device, with
 * randomly initialised weights: greedy decoding with the per-block KV cache,
 * and coarse-to-fine decoding (core's constrained decoder, greedy, with the
 * segment and co-occurrence constraints from the training targets). One
 * candidate per problem, as `eval` decodes for n = 1. Each timed call is the
 * whole `generateCandidates`: encoding the problem, decoding and turning the
 * tokens back into Python. No baseline.
 *
 * Random weights rarely emit EOS early, so sequences mostly run to the token
 * budget and the rate reflects long decodes. The constrained decoder closes
 * every sequence within the budget.
 *
 * Sizes: SCULPT_BENCH_GEN_PROBLEMS (default 4) timed problems after one
 * warm-up, SCULPT_BENCH_GEN_TOKENS (default 256) new tokens at most for
 * greedy decoding and SCULPT_BENCH_GEN_C2F_TOKENS (default 64) for
 * coarse-to-fine decoding, whose constraint costs far more per token.
 *
 * Run alone: npx tsx --conditions @sculpt/source packages/chaincoder/bench/generation.ts
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, formatBenchTable, mergeBenchRecords, setLogLevel, type BenchRecord, type Decoder } from '@sculpt/core';
import { disposeDevices, getCpuDevice } from '@sculpt/runtime-gpu';
import { buildCooccurrence, coarseToFineConstraint, generateCandidates, outputLayout, type CooccurrenceTable } from '../src/decode/index.js';
import { ChainCoderModel, type CodeVocabularies, type PreparedProblem } from '../src/model/index.js';
import { targetIds } from '../src/train/index.js';
import { prepareMiniatureWorkload, sizeFromEnv } from './miniature.js';

const SEED = 2;
/** Problems the vocabularies and co-occurrence table are built from. */
const VOCABULARY_PROBLEMS = 120;

interface GenerationRate {
  tokens: number;
  seconds: number;
  sequences: number[][];
}

async function timeGeneration(
  model: ChainCoderModel,
  vocabularies: CodeVocabularies,
  problems: readonly PreparedProblem[],
  decoder: Decoder,
  options: { maxNewTokens: number; cooccurrence?: CooccurrenceTable },
): Promise<GenerationRate> {
  const generate = (problem: PreparedProblem) =>
    generateCandidates(model, vocabularies, problem, decoder, { n: 1, maxNewTokens: options.maxNewTokens, mode: 'lossless', cooccurrence: options.cooccurrence, seed: 0 });
  await generate(problems[0]);

  const sequences: number[][] = [];
  const start = performance.now();
  for (const problem of problems.slice(1)) sequences.push((await generate(problem)).sequences[0]);
  const seconds = (performance.now() - start) / 1000;
  return { tokens: sequences.reduce((sum, sequence) => sum + sequence.length, 0), seconds, sequences };
}

/**
 * Replays the generated sequences through a fresh coarse-to-fine constraint
 * and returns the seconds its `allowedTokens` calls take, the share of the
 * decoding time that is not the model.
 */
function constraintSeconds(vocabularies: CodeVocabularies, cooccurrence: CooccurrenceTable, maxNewTokens: number, sequences: readonly number[][]): number {
  const start = performance.now();
  for (const sequence of sequences) {
    const allowed = coarseToFineConstraint(outputLayout(vocabularies.output), cooccurrence, maxNewTokens);
    for (let position = 0; position <= sequence.length; position++) allowed({ generated: sequence.slice(0, position) });
  }
  return (performance.now() - start) / 1000;
}

export async function benchmarkGeneration(): Promise<BenchRecord[]> {
  const problemCount = sizeFromEnv('SCULPT_BENCH_GEN_PROBLEMS', 4);
  const { problems, vocabularies, config } = await prepareMiniatureWorkload(Math.max(VOCABULARY_PROBLEMS, problemCount + 1), SEED);
  const model = new ChainCoderModel(getCpuDevice(), config, SEED);
  const registry = new Registry();
  const cases: { name: string; decoder: Decoder; maxNewTokens: number; cooccurrence?: CooccurrenceTable }[] = [
    { name: 'greedy, KV cache', decoder: (await registry.create('decoder', 'greedy', {})) as Decoder, maxNewTokens: sizeFromEnv('SCULPT_BENCH_GEN_TOKENS', 256) },
    {
      name: 'coarse-to-fine greedy, KV cache',
      maxNewTokens: sizeFromEnv('SCULPT_BENCH_GEN_C2F_TOKENS', 64),
      decoder: (await registry.create('decoder', 'constrained', { mode: 'greedy' })) as Decoder,
      cooccurrence: buildCooccurrence(targetIds(vocabularies, problems), outputLayout(vocabularies.output)),
    },
  ];

  const records: BenchRecord[] = [];
  const timed = problems.slice(0, problemCount + 1);
  for (const { name, decoder, maxNewTokens, cooccurrence } of cases) {
    process.stderr.write(`generation (${name}): ${problemCount} problems\n`);
    const rate = await timeGeneration(model, vocabularies, timed, decoder, { maxNewTokens, cooccurrence });
    const constraint = cooccurrence === undefined ? {} : { constraintSeconds: constraintSeconds(vocabularies, cooccurrence, maxNewTokens, rate.sequences) };
    records.push({
      case: `generation tokens/s (${name}; miniature, random weights, 1 candidate)`,
      device: 'cpu',
      value: rate.tokens / rate.seconds,
      unit: 'tokens/s',
      baseline: null,
      ratio: null,
      parameters: model.parameterCount(),
      problems: problemCount,
      maxNewTokens,
      tokens: rate.tokens,
      seconds: rate.seconds,
      ...constraint,
    });
  }
  model.dispose();
  return records;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  setLogLevel('warn');
  const records = await benchmarkGeneration();
  await mergeBenchRecords('chaincoder', records, process.env.SCULPT_BENCH_RESULTS_ROOT);
  process.stdout.write(formatBenchTable(records));
  await disposeDevices();
}
