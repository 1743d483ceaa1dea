import { describe, expect, it } from 'vitest';
import { Registry, type Decoder, type DecodingModel, type Random } from '@sculpt/core';
import { coarseToFineConstraint, splitSegments, type OutputVocabularyLayout } from '../../src/decode/coarse-to-fine.js';
import { FrameBrackets, applyEffect, bracketEffect } from '../../src/decode/frame-brackets.js';
import { randomLogitsModel } from '../fixtures/random-logits-model.js';

// Vocabulary: 0 BOS, 1 SEP, 2 EOS, syntax 3–6 and 12–14, content 7–11.
const fragments = new Map<number, string>([
  [3, 'Module(body=['],
  [4, 'Call(func='],
  [5, ')'],
  [6, '])'],
  [12, '),args=['],
  [13, '),name=('],
  [14, '(]'],
]);
const layout: OutputVocabularyLayout = {
  size: 15,
  separator: 1,
  eos: 2,
  syntaxIds: [3, 4, 5, 6, 12, 13, 14],
  contentIds: [7, 8, 9, 10, 11],
  syntaxFragments: fragments,
};

/** Builds a model with seeded random logits that favour the openings of tokens 3 and 4 over SEP, so that frames grow deep. */
function randomModel(seed: number): DecodingModel<Random> {
  const offsets = new Map([
    [3, 2],
    [4, 2],
    [layout.separator, -1],
  ]);
  return randomLogitsModel({ vocabSize: layout.size, seed, offsets });
}

describe('bracketEffect', () => {
  it('reduces fragments to closings and openings', () => {
    expect(bracketEffect('Module(body=[')).toEqual({ closes: '', opens: '([' });
    expect(bracketEffect(',ctx=Load())],keywords=[]),attr=')).toEqual({ closes: '([(', opens: '' });
    expect(bracketEffect('),args=[')).toEqual({ closes: '(', opens: '[' });
  });

  it('skips brackets inside quotes', () => {
    expect(bracketEffect("value='(['),x=")).toEqual({ closes: '(', opens: '' });
  });

  it('rejects a mismatched fragment', () => {
    expect(bracketEffect('(]')).toBeNull();
  });

  it('applies effects to a stack', () => {
    expect(applyEffect('([', { closes: '[', opens: '(' })).toBe('((');
    expect(applyEffect('([', { closes: '(', opens: '' })).toBeNull();
    expect(applyEffect('', { closes: ')', opens: '' })).toBeNull();
  });
});

describe('FrameBrackets', () => {
  const brackets = new FrameBrackets(fragments);

  it('counts greedy closing tokens', () => {
    expect(brackets.closingCost('')).toBe(0);
    expect(brackets.closingCost('([')).toBe(1);
    expect(brackets.closingCost('([(')).toBe(2);
    expect(brackets.closingCost('[')).toBe(Infinity);
  });

  it('finds the shortest frame', () => {
    // Module(body=[ then ]) closes it.
    expect(brackets.minFrameLength).toBe(2);
    expect(brackets.effects.has(14)).toBe(false);
  });

  it('tracks the stack of a token sequence', () => {
    expect(brackets.stackAfter([3, 4])).toBe('([(');
    expect(brackets.stackAfter([3, 4, 12])).toBe('([[');
    expect(brackets.stackAfter([5])).toBeNull();
  });
});

describe('coarseToFineConstraint with frame brackets', () => {
  const cooccurrence = new Map<number, Set<number>>();

  it('closes S3 only with balanced brackets', () => {
    const allowed = coarseToFineConstraint(layout, cooccurrence, 40);
    // After Module(body=[ the stack is "([": the only closer that fits is "])", and SEP waits.
    const afterOpen = allowed({ generated: [1, 1, 3] });
    expect(afterOpen.has(6)).toBe(true);
    expect(afterOpen.has(5)).toBe(false);
    expect(afterOpen.has(layout.separator)).toBe(false);
    expect(afterOpen.has(14)).toBe(false);
    expect(allowed({ generated: [1, 1, 3, 6] }).has(layout.separator)).toBe(true);
  });

  it('allows only closing near the budget', () => {
    // Budget 13 from [SEP SEP Module(body=[ Call(func=]: stack "([(". After ")" one closer, SEP, 4 S4 tokens and EOS fill the 9 left.
    const allowed = coarseToFineConstraint(layout, cooccurrence, 13);
    expect([...allowed({ generated: [1, 1, 3, 4] })]).toEqual([5]);
  });

  it('always yields balanced decodable frames', async () => {
    const registry = new Registry();
    const brackets = new FrameBrackets(fragments);
    for (const maxNewTokens of [8, 9, 12, 20, 40]) {
      for (let seed = 0; seed < 20; seed++) {
        const decoder = (await registry.create('decoder', 'constrained', { mode: 'sample', seed, maxNewTokens, stopTokens: [layout.eos] })) as Decoder;
        const [result] = await decoder.decode(randomModel(seed), [[0]], { allowedTokens: coarseToFineConstraint(layout, cooccurrence, maxNewTokens) });
        const sequence = result.sequences[0];
        expect(sequence.finishReason, `budget ${maxNewTokens}, seed ${seed}`).toBe('stop');
        const segments = splitSegments(sequence.tokens, layout);
        expect(segments, `budget ${maxNewTokens}, seed ${seed}`).not.toBeNull();
        expect(brackets.stackAfter(segments!.s3), `budget ${maxNewTokens}, seed ${seed}`).toBe('');
      }
    }
  });

  it('rejects a budget below the shortest frame', () => {
    expect(() => coarseToFineConstraint(layout, cooccurrence, 7)).toThrow(/at least 8 for this vocabulary, got 7/u);
  });
});
