/**
 * The workload shared by the training and generation benchmarks: generated
 * stdin problems (the `generated-stdin` dataset's generator), tokenized with
 * vocabularies built from them, and the miniature model configuration.
 */
import { generateProblems } from '@sculpt/datasets';
import { buildCodeVocabularies, miniatureConfig, prepareProblems, type ChainCoderConfig, type CodeVocabularies, type PreparedProblem } from '../src/model/index.js';

export interface MiniatureWorkload {
  problems: PreparedProblem[];
  vocabularies: CodeVocabularies;
  config: ChainCoderConfig;
}

/** Reads a positive integer size from the environment, or returns `fallback`. */
export function sizeFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${text} is invalid; set it to a positive integer.`);
  return value;
}

export async function prepareMiniatureWorkload(count: number, seed: number): Promise<MiniatureWorkload> {
  const generated = generateProblems({ count, seed, examples: 4, tests: 8, fractions: { validation: 0, test: 0 } });
  const maxTargetLength = miniatureConfig({ inputVocab: 1, outputVocab: 1, descriptionVocab: 1 }).maxTargetLength;
  const { prepared } = await prepareProblems(generated, { tokenizer: { mode: 'lossless' }, includeHiddenTests: true, maxTargetLength });
  const vocabularies = buildCodeVocabularies(prepared, { mode: 'lossless' });
  const config = miniatureConfig({
    inputVocab: vocabularies.input.size,
    outputVocab: vocabularies.output.size,
    descriptionVocab: vocabularies.description.size + 2,
  });
  return { problems: prepared, vocabularies, config };
}
