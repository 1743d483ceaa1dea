/**
 * Grammar-guided coarse-to-fine decoding: with the real output vocabulary of
 * generated-stdin problems, every completed candidate of a model with random
 * weights decodes to a program that CPython's `ast.parse` accepts.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Registry, UsageError, type Decoder, type DecodingModel } from '@sculpt/core';
import { getCpuDevice } from '@sculpt/runtime-gpu';
import {
  ContentClasses,
  FrameConstraint,
  buildCooccurrence,
  coarseToFineConstraint,
  generateCandidates,
  outputLayout,
  splitSegments,
  type CooccurrenceTable,
} from '../../src/decode/index.js';
import { ChainCoderModel } from '../../src/model/index.js';
import { tryDecodeProgram } from '../../src/tokenizer/decode.js';
import { targetIds } from '../../src/train/experiment.js';
import { randomLogitsModel } from '../fixtures/random-logits-model.js';
import { prepareTinyProblems, tinyConfig } from '../fixtures/tiny-model.js';

/** Returns, per program, null when `ast.parse` accepts it, else CPython's error message. One python3 process checks them all. */
function pythonParseErrors(programs: readonly string[]): (string | null)[] {
  const script = [
    'import ast, json, sys',
    'errors = []',
    'for source in json.load(sys.stdin):',
    '    try:',
    '        ast.parse(source)',
    '        errors.append(None)',
    '    except SyntaxError as error:',
    '        errors.append(str(error))',
    'print(json.dumps(errors))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(programs) }).toString()) as (string | null)[];
}

describe('grammar-guided decoding', async () => {
  const { train: prepared, vocabularies } = await prepareTinyProblems({ count: 8, seed: 9, examples: 2, tests: 2, includeHiddenTests: false, maxTargetLength: 400 });
  const output = vocabularies.output;
  const layout = outputLayout(output);
  const separator = output.specialId('separator');
  const bos = output.specialId('bos');
  const eos = output.specialId('eos');
  const cooccurrence: CooccurrenceTable = buildCooccurrence(targetIds(vocabularies, prepared), layout);
  const frames = new FrameConstraint(layout.syntaxFragments!, layout.contentTexts!, layout.continuation, 'lossless');
  const shortest = 4 + 2 * frames.minFrameLength;
  const registry = new Registry();

  // Random logits of scale 3, so every step explores a different allowed token. Raising the
  // separator's logit ends S1 and S2 early, which leaves most of the budget to a long, freely sampled S3.
  const randomModel = (seed: number, separatorBoost: number): DecodingModel<Random> =>
    randomLogitsModel({ vocabSize: output.size, seed, scale: 3, offsets: new Map([[separator, separatorBoost]]) });

  const decodeAll = (sequences: readonly number[][]): { sources: string[]; failures: string[] } => {
    const sources: string[] = [];
    const failures: string[] = [];
    for (const tokens of sequences) {
      const decoded = tryDecodeProgram(output.decodeIds([bos, ...tokens, eos]));
      if (decoded.ok) sources.push(decoded.source);
      else failures.push(`${decoded.reason}: ${decoded.detail}`);
    }
    return { sources, failures };
  };

  it('finds a shortest frame in the vocabulary', () => {
    expect(Number.isFinite(frames.minFrameLength)).toBe(true);
    expect(frames.minFrameLength).toBeGreaterThan(1);
  });

  it('decodes every random-weight candidate to Python', { timeout: 300_000 }, async () => {
    const config = tinyConfig(vocabularies);
    const model = new ChainCoderModel(getCpuDevice(), config, 7);
    afterAll(() => model.dispose());
    const decoder = (await registry.create('decoder', 'constrained', { mode: 'sample', seed: 3 })) as Decoder;
    const result = await generateCandidates(model, vocabularies, prepared[1], decoder, { n: 20, maxNewTokens: 100, mode: 'lossless', cooccurrence, seed: 0 });
    expect(result.failures).toEqual(Array(20).fill(null));
    const programs = result.programs as string[];
    expect(pythonParseErrors(programs)).toEqual(Array(20).fill(null));
  });

  it('keeps sampled candidates valid at every budget', { timeout: 120_000 }, async () => {
    const sequences: number[][] = [];
    let longestFrame = 0;
    for (const maxNewTokens of [shortest, shortest + 1, shortest + 7, 80, 200]) {
      for (let seed = 0; seed < 8; seed++) {
        const decoder = (await registry.create('decoder', 'constrained', { mode: 'sample', seed, maxNewTokens, stopTokens: [eos] })) as Decoder;
        const boost = seed % 2 === 0 ? 12 : 0;
        const [decoded] = await decoder.decode(randomModel(seed, boost), [[bos]], {
          allowedTokens: coarseToFineConstraint(layout, cooccurrence, maxNewTokens),
        });
        const sequence = decoded.sequences[0];
        expect(sequence.finishReason).toBe('stop');
        expect(sequence.tokens.length).toBeLessThan(maxNewTokens);
        sequences.push(sequence.tokens);
        longestFrame = Math.max(longestFrame, splitSegments(sequence.tokens, layout)?.s3.length ?? 0);
      }
    }
    // The boosted separator leaves room for long frames, so deep grammar states are exercised too.
    expect(longestFrame).toBeGreaterThan(40);
    const { sources, failures } = decodeAll(sequences);
    expect(failures).toEqual([]);
    expect(pythonParseErrors(sources)).toEqual(Array(sources.length).fill(null));
  });

  it('keeps greedy and beam candidates valid', { timeout: 120_000 }, async () => {
    const maxNewTokens = 60;
    const greedy = (await registry.create('decoder', 'constrained', { mode: 'greedy', maxNewTokens, stopTokens: [eos] })) as Decoder;
    const beam = (await registry.create('decoder', 'beam', { width: 3, numReturn: 3, maxNewTokens, stopTokens: [eos] })) as Decoder;
    const sequences: number[][] = [];
    for (let seed = 0; seed < 3; seed++) {
      const allowedTokens = coarseToFineConstraint(layout, cooccurrence, maxNewTokens);
      const [fromGreedy] = await greedy.decode(randomModel(seed, 12), [[bos]], { allowedTokens });
      const [fromBeam] = await beam.decode(randomModel(seed, 12), [[bos]], { allowedTokens });
      sequences.push(fromGreedy.sequences[0].tokens, ...fromBeam.sequences.map((sequence) => sequence.tokens));
    }
    const { sources, failures } = decodeAll(sequences);
    expect(failures).toEqual([]);
    expect(pythonParseErrors(sources)).toEqual(Array(sources.length).fill(null));
  });

  it('rejects a budget below the shortest frame', () => {
    expect(() => coarseToFineConstraint(layout, cooccurrence, shortest - 1)).toThrow(UsageError);
  });

  it('restricts each hole to its content kind', () => {
    const contents = new ContentClasses(layout.contentTexts!);
    const texts = (ids: ReadonlySet<number>): string[] => [...ids].map((id) => output.tokens[id]).sort();
    expect(texts(contents.single('boolop'))).toEqual(['And()', 'Or()']);
    expect(texts(contents.single('unaryop'))).toEqual(['Invert()', 'Not()', 'UAdd()', 'USub()']);
    expect(texts(contents.single('statement-singleton'))).toEqual(['Break()', 'Continue()', 'Pass()']);
    expect(texts(contents.single('operator'))).toContain('Add()');
    expect(texts(contents.single('operator'))).not.toContain('Eq()');
    expect(texts(contents.single('cmpop'))).toContain('Eq()');
    expect(texts(contents.single('cmpop'))).not.toContain('Add()');
    const identifiers = texts(contents.single('identifier'));
    expect(identifiers).toContain("'var_0'");
    expect(identifiers).not.toContain("' '");
    expect(identifiers).not.toContain("'None'");
    expect(identifiers.every((text) => text.startsWith("'"))).toBe(true);
    expect(texts(contents.single('async-flag'))).toEqual(['0', '1']);
  });

  it('keeps split constants joinable', () => {
    const contents = new ContentClasses(layout.contentTexts!);
    const id = (text: string): number => output.id(text);
    const first = contents.piece('constant', 0, 3, 0);
    expect(first.has(id('7'))).toBe(true);
    expect(first.has(id("'a'"))).toBe(true);
    expect(first.has(id('-7'))).toBe(false);
    expect(first.has(id('True'))).toBe(false);
    // After a digit, a letter cannot continue a number; after a letter, a digit cannot continue a string.
    const afterDigit = contents.nextPieceState(0, 0, id('7'));
    expect(contents.piece('constant', 1, 3, afterDigit).has(id("'a'"))).toBe(false);
    expect(contents.piece('constant', 1, 3, afterDigit).has(id("'.'"))).toBe(true);
    const afterLetter = contents.nextPieceState(0, 0, id("'a'"));
    expect(contents.piece('constant', 1, 3, afterLetter).has(id('7'))).toBe(false);
    // A number cannot end on its exponent mark.
    const afterE = contents.nextPieceState(1, contents.nextPieceState(1, afterDigit, id("'.'")), id("'e'"));
    expect(contents.piece('constant', 3, 4, afterE).has(id('5'))).toBe(true);
    expect(contents.piece('constant', 3, 4, contents.nextPieceState(1, afterDigit, id("'.'"))).has(id("'e'"))).toBe(false);
  });
});
