/**
 * Turns code problems into model batches. Programs become
 * `[BOS] S1 [SEP] S2 [SEP] S3 [SEP] S4 [EOS]` targets, and I/O tests become
 * aligned syntax/content samples. Descriptions become GPT-2 BPE ids (from the
 * gpt-tokenizer package) remapped to the ids seen in the training split, so
 * the embedding table stays small.
 */
import { encode as bpeEncode } from 'gpt-tokenizer';
import { UsageError, getLogger, type Random } from '@sculpt/core';
import type { CodeProblem, IoExample } from '@sculpt/datasets';
import { PythonSyntaxError, UnsupportedSyntaxError } from '../ast/parse.js';
import { alignIoSamples, encodeIoSample, ioSampleToObject, type EncodedIoSample } from '../tokenizer/iodata.js';
import { PoolOverflowError } from '../tokenizer/normalize.js';
import { createProgramTokenizer, type EncodedProgram, type EncodeOptions } from '../tokenizer/encode.js';
import { serializeTarget } from '../tokenizer/target.js';
import { buildVocabularies, type Vocabulary } from '../tokenizer/vocabulary.js';
import { drawItems } from '../train/batches.js';
import type { ModelBatch } from './batch.js';
import { descriptionVectorCount, type ChainCoderConfig } from './config.js';

const log = getLogger('chaincoder:features');

export interface PreparedProblem {
  id: string;
  /** The description text, which an ONNX description encoder reads. */
  description: string;
  /** GPT-2 BPE ids of the description. */
  descriptionTokens: number[];
  /**
   * Pooled ONNX encoder features of the description, [vectors, hidden]; set
   * by `DescriptionFeatureCache.attach` for models with `descriptionEncoder`.
   */
  descriptionFeatures?: Float32Array;
  /** Encoded I/O samples the model may see. */
  samples: EncodedIoSample[];
  /** Encoded reference programs. */
  programs: EncodedProgram[];
}

export interface PrepareOptions {
  tokenizer: EncodeOptions;
  /** Use hidden tests as extra I/O samples (training only; never for evaluation). */
  includeHiddenTests: boolean;
  /** Targets longer than this are rejected, not cut. */
  maxTargetLength: number;
}

export interface PrepareReport {
  problems: number;
  programs: number;
  /** Programs left out, by reason. */
  droppedPrograms: Record<string, number>;
  /** Problems left out because no program or no I/O sample remained. */
  droppedProblems: number;
}

function encodeSamples(tests: readonly IoExample[], options: EncodeOptions): EncodedIoSample[] {
  return tests.map((test) => encodeIoSample(ioSampleToObject(test.input, test.output), { mode: options.mode }));
}

/** Tokenizes problems; programs that fail to parse or are too long are counted and left out. */
/** Describes the dropped programs and problems, e.g. `3 programs dropped (syntax: 2, pool: 1), 1 problem dropped`. */
export function describeDropped(report: PrepareReport): string {
  const reasons = Object.entries(report.droppedPrograms);
  const programs = reasons.reduce((sum, [, count]) => sum + count, 0);
  const detail = reasons.length > 0 ? ` (${reasons.map(([reason, count]) => `${reason}: ${count}`).join(', ')})` : '';
  const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;
  return `${plural(programs, 'program')} dropped${detail}, ${plural(report.droppedProblems, 'problem')} dropped`;
}

export async function prepareProblems(problems: readonly CodeProblem[], options: PrepareOptions): Promise<{ prepared: PreparedProblem[]; report: PrepareReport }> {
  const tokenizer = await createProgramTokenizer();
  const report: PrepareReport = { problems: 0, programs: 0, droppedPrograms: {}, droppedProblems: 0 };
  const drop = (reason: string): void => {
    report.droppedPrograms[reason] = (report.droppedPrograms[reason] ?? 0) + 1;
  };
  const prepared: PreparedProblem[] = [];
  for (const problem of problems) {
    const programs: EncodedProgram[] = [];
    for (const solution of problem.solutions) {
      try {
        const encoded = tokenizer.encode(solution, options.tokenizer);
        // BOS, three separators and EOS come on top of the four segments.
        const length = encoded.s1.length + encoded.s2.length + encoded.s3.length + encoded.s4.length + 5;
        if (length > options.maxTargetLength) drop('target longer than maxTargetLength');
        else programs.push(encoded);
      } catch (error) {
        if (error instanceof PythonSyntaxError) drop('syntax error');
        else if (error instanceof UnsupportedSyntaxError) drop('unsupported syntax');
        else if (error instanceof PoolOverflowError) drop('too many identifiers');
        else throw error;
      }
    }
    const samples = encodeSamples(options.includeHiddenTests ? [...problem.examples, ...problem.tests] : problem.examples, options.tokenizer);
    if (programs.length === 0 || samples.length === 0) {
      report.droppedProblems++;
      continue;
    }
    prepared.push({ id: problem.id, description: problem.description, descriptionTokens: bpeEncode(problem.description), samples, programs });
    report.programs += programs.length;
  }
  report.problems = prepared.length;
  log.info(() => `Prepared ${report.problems} problems with ${report.programs} programs (${describeDropped(report)})`);
  return { prepared, report };
}

/**
 * Prepares problems for generation: the description and the examples only,
 * with no programs, so problems without reference solutions are kept.
 */
export function preparePrompts(problems: readonly CodeProblem[], tokenizer: EncodeOptions): PreparedProblem[] {
  return problems.map((problem) => {
    if (problem.examples.length === 0) {
      throw new UsageError(`Problem ${problem.id} has no I/O examples; the model needs at least one to generate a program.`);
    }
    return { id: problem.id, description: problem.description, descriptionTokens: bpeEncode(problem.description), samples: encodeSamples(problem.examples, tokenizer), programs: [] };
  });
}

/** Ids 0 and 1 of the description vocabulary: padding and unknown subwords. */
export const DESCRIPTION_PAD = 0;
export const DESCRIPTION_UNKNOWN = 1;

export interface CodeVocabularies {
  input: Vocabulary;
  output: Vocabulary;
  /** GPT-2 BPE id → compact description id (from 2 up). */
  description: Map<number, number>;
}

/** Builds every vocabulary from the training split only. */
export function buildCodeVocabularies(train: readonly PreparedProblem[], options: { mode: 'lossless' | 'compat'; minSyntaxCount?: number }): CodeVocabularies {
  const built = buildVocabularies(
    train.flatMap((problem) => problem.programs),
    train.flatMap((problem) => problem.samples),
    { mode: options.mode, minSyntaxCount: options.minSyntaxCount },
  );
  const description = new Map<number, number>();
  for (const problem of train) {
    for (const token of problem.descriptionTokens) if (!description.has(token)) description.set(token, description.size + 2);
  }
  return { input: built.input, output: built.output, description };
}

export interface BatchShape {
  /** I/O samples per instance (the curriculum's value). */
  ioSamples: number;
  /** Programs per instance (the curriculum's value); 0 builds an inference batch with no targets. */
  programs: number;
}

/** The I/O samples and programs drawn for one instance of a batch. */
export interface InstanceDraw {
  samples: EncodedIoSample[];
  programs: EncodedProgram[];
}

/**
 * Draws the samples and programs of every instance with `random`: first the
 * samples of all instances, then their programs. Splitting the draws of a
 * large batch into chunks and assembling each chunk gives micro-batches that
 * together hold exactly the large batch's examples (gradient accumulation).
 */
export function drawBatch(instances: readonly PreparedProblem[], config: ChainCoderConfig, shape: BatchShape, random: Random): InstanceDraw[] {
  const samples = instances.map((instance) => drawItems(instance.samples, Math.min(shape.ioSamples, config.maxSamples), random));
  const programs = instances.map((instance) => (shape.programs === 0 ? [] : drawItems(instance.programs, shape.programs, random)));
  return instances.map((_, index) => ({ samples: samples[index], programs: programs[index] }));
}

/** Builds one batch from prepared problems, drawing samples and programs with `random`. */
export function buildBatch(
  instances: readonly PreparedProblem[],
  vocabularies: CodeVocabularies,
  config: ChainCoderConfig,
  shape: BatchShape,
  random: Random,
): ModelBatch {
  return assembleBatch(instances, drawBatch(instances, config, shape, random), vocabularies, config);
}

/** Pads and encodes instances with their drawn samples and programs into one batch. */
export function assembleBatch(
  instances: readonly PreparedProblem[],
  draws: readonly InstanceDraw[],
  vocabularies: CodeVocabularies,
  config: ChainCoderConfig,
): ModelBatch {
  if (draws.length !== instances.length) throw new Error(`assembleBatch: ${draws.length} draws for ${instances.length} instances`);
  const { input, output } = vocabularies;
  const inputPadSyntax = input.specialId('ioPadSyntax');
  const inputPadContent = input.specialId('ioPadContent');
  const outputPad = output.specialId('pad');

  const aligned = draws.map(({ samples }) => {
    const { syntax, content } = alignIoSamples(samples);
    // NOTE: I/O sequences longer than maxIoLength are cut at the end, which drops their final pair.
    return {
      syntax: syntax.map((row) => input.encodeIds(row.slice(0, config.maxIoLength))),
      content: content.map((row) => input.encodeIds(row.slice(0, config.maxIoLength))),
    };
  });
  const S = Math.max(...aligned.map((item) => item.syntax.length));
  const T = Math.max(...aligned.map((item) => item.syntax[0].length));
  const ioIds: number[] = [];
  aligned.forEach((item) => {
    for (let t = 0; t < T; t++) {
      for (const [channel, pad] of [
        [item.syntax, inputPadSyntax],
        [item.content, inputPadContent],
      ] as const) {
        for (let s = 0; s < S; s++) ioIds.push(channel[s]?.[t] ?? pad);
      }
    }
  });

  const descriptions = instances.map((instance) => {
    const ids = instance.descriptionTokens.slice(0, config.maxDescriptionLength).map((token) => vocabularies.description.get(token) ?? DESCRIPTION_UNKNOWN);
    return ids.length > 0 ? ids : [DESCRIPTION_UNKNOWN];
  });
  const Ld = Math.max(...descriptions.map((ids) => ids.length));
  const descriptionFeatures = config.descriptionEncoder === undefined ? undefined : gatherDescriptionFeatures(instances, config);

  const programInstance: number[] = [];
  const targets: number[][] = [];
  draws.forEach(({ programs }, index) => {
    for (const program of programs) {
      programInstance.push(index);
      targets.push(output.encodeIds(serializeTarget(program)));
    }
  });
  // An inference batch has no targets; 2 (BOS and EOS) keeps the shape valid.
  const Lt = Math.max(2, ...targets.map((target) => target.length));

  return {
    instances: instances.length,
    samples: S,
    ioLength: T,
    ioIds,
    sampleCounts: aligned.map((item) => item.syntax.length),
    ioLengths: aligned.map((item) => item.syntax[0].length),
    descriptionLength: Ld,
    descriptionIds: descriptions.flatMap((ids) => [...ids, ...new Array<number>(Ld - ids.length).fill(DESCRIPTION_PAD)]),
    descriptionLengths: descriptions.map((ids) => ids.length),
    ...(descriptionFeatures === undefined ? {} : { descriptionFeatures }),
    programInstance,
    targetLength: Lt,
    targets: targets.flatMap((target) => [...target, ...new Array<number>(Lt - target.length).fill(outputPad)]),
    targetLengths: targets.map((target) => target.length),
  };
}

/** Concatenates the instances' pooled ONNX features into [I, vectors, hidden]. */
function gatherDescriptionFeatures(instances: readonly PreparedProblem[], config: ChainCoderConfig): Float32Array {
  const size = descriptionVectorCount(config) * config.descriptionEncoder!.hidden;
  const features = new Float32Array(instances.length * size);
  instances.forEach((instance, index) => {
    const values = instance.descriptionFeatures;
    if (values === undefined) {
      throw new UsageError(`Problem ${instance.id} has no description features, but the model reads an ONNX description encoder's output; run DescriptionFeatureCache.attach on the problems first.`);
    }
    if (values.length !== size) {
      throw new UsageError(`Problem ${instance.id} has ${values.length} description feature values; the model needs ${size} (vectors × encoder hidden size ${config.descriptionEncoder!.hidden}).`);
    }
    features.set(values, index * size);
  });
  return features;
}
