/**
 * Candidate generation for one problem: encode the description and I/O
 * examples once, decode n candidates with a core decoder plugin (optionally
 * restricted by the coarse-to-fine constraints), and turn each token sequence
 * back into Python source.
 */
import { Random, UsageError, type Decoder } from '@sculpt/core';
import { noGrad, scope } from '@sculpt/runtime-gpu';
import type { DescriptionFeatureCache } from '../model/description-features.js';
import { buildBatch, type CodeVocabularies, type PreparedProblem } from '../model/features.js';
import type { ChainCoderModel } from '../model/model.js';
import { tryDecodeProgram } from '../tokenizer/decode.js';
import type { TokenizerMode } from '../tokenizer/modes.js';
import { SPECIAL_TOKENS } from '../tokenizer/special-tokens.js';
import type { Vocabulary } from '../tokenizer/vocabulary.js';
import { coarseToFineConstraint, type CooccurrenceTable, type OutputVocabularyLayout } from './coarse-to-fine.js';
import { ChainCoderDecodingModel } from './generation-model.js';

/**
 * Splits an output vocabulary into syntax and content ids. Syntax ids are the
 * kept layout-frame tokens plus the on-hold placeholder, which S3 pairs with
 * the 2nd and later pieces of a split literal. Content ids are the other
 * non-special tokens plus the final-chasing token that ends S4.
 */
export function outputLayout(vocabulary: Vocabulary): OutputVocabularyLayout {
  const special = new Set<string>(Object.values(SPECIAL_TOKENS));
  const syntaxIds: number[] = [];
  const contentIds: number[] = [];
  vocabulary.tokens.forEach((token, id) => {
    if (token === SPECIAL_TOKENS.onHold || (vocabulary.syntaxCounts[token] ?? 0) >= vocabulary.minSyntaxCount) syntaxIds.push(id);
    else if (token === SPECIAL_TOKENS.finalChasing || !special.has(token)) contentIds.push(id);
  });
  return {
    size: vocabulary.size,
    separator: vocabulary.specialId('separator'),
    eos: vocabulary.specialId('eos'),
    syntaxIds,
    contentIds,
    finalContent: vocabulary.specialId('finalChasing'),
    continuation: vocabulary.specialId('onHold'),
    syntaxFragments: new Map(syntaxIds.map((id) => [id, vocabulary.tokens[id]])),
    contentTexts: new Map(contentIds.map((id) => [id, vocabulary.tokens[id]])),
    mode: vocabulary.mode,
  };
}

export interface GenerateOptions {
  /** Candidates to decode (rows of one decoder call). */
  n: number;
  maxNewTokens: number;
  mode: TokenizerMode;
  /** Training co-occurrences; when given, decoding is constrained coarse-to-fine. */
  cooccurrence?: CooccurrenceTable;
  /** Seed for drawing the problem's I/O examples (sampling decoders have their own seed). */
  seed: number;
  /**
   * Decode one prompt and take the n sequences the decoder returns for it
   * (beam search with numReturn = n), instead of n prompts with one sequence each.
   */
  sequencesFromOnePrompt?: boolean;
  /**
   * Computes the description features of a problem that has none, for a model
   * with an ONNX description encoder (`TrainedModel.descriptionFeatures`).
   */
  descriptionFeatures?: DescriptionFeatureCache | null;
}

export interface GeneratedCandidates {
  /** Python source per candidate, or null when the tokens do not decode to a program. */
  programs: (string | null)[];
  /** Generated token ids per candidate, without BOS and EOS. */
  sequences: number[][];
  /** Per candidate: why its tokens did not decode, or null when they did. */
  failures: (string | null)[];
}

export async function generateCandidates(
  model: ChainCoderModel,
  vocabularies: CodeVocabularies,
  problem: PreparedProblem,
  decoder: Decoder,
  options: GenerateOptions,
): Promise<GeneratedCandidates> {
  if (!Number.isInteger(options.n) || options.n < 1) throw new UsageError(`n must be a positive integer, got ${options.n}.`);
  const output = vocabularies.output;
  if (model.config.descriptionEncoder !== undefined && problem.descriptionFeatures === undefined && options.descriptionFeatures != null) {
    await options.descriptionFeatures.attach([problem]);
  }
  const batch = buildBatch([problem], vocabularies, model.config, { ioSamples: Math.min(4, problem.samples.length), programs: 0 }, new Random(options.seed));
  const encoded = noGrad(() => scope(() => model.encode(batch)));
  model.releaseBatchTensors();

  const generation = new ChainCoderDecodingModel(model, encoded, batch.ioLengths[0], options.maxNewTokens + 1);
  const bos = output.specialId('bos');
  const eos = output.specialId('eos');
  const layout = outputLayout(output);
  try {
    const results = await decoder.decode(
      generation,
      Array.from({ length: options.sequencesFromOnePrompt === true ? 1 : options.n }, () => [bos]),
      {
        maxNewTokens: options.maxNewTokens,
        stopTokens: [eos],
        allowedTokens: options.cooccurrence === undefined ? undefined : coarseToFineConstraint(layout, options.cooccurrence, options.maxNewTokens),
      },
    );
    const sequences = options.sequencesFromOnePrompt === true
      ? results[0].sequences.slice(0, options.n).map((sequence) => sequence.tokens)
      : results.map((result) => result.sequences[0].tokens);
    const decoded = sequences.map((tokens) => tryDecodeProgram(output.decodeIds([bos, ...tokens, eos]), { mode: options.mode }));
    return {
      programs: decoded.map((result) => (result.ok ? result.source : null)),
      sequences,
      failures: decoded.map((result) => (result.ok ? null : result.reason)),
    };
  } finally {
    encoded.dispose();
  }
}
