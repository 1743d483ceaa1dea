import { describe, expect, it } from 'vitest';
import { Registry, type Decoder, type DecodingModel, type Random } from '@sculpt/core';
import { buildCooccurrence, coarseToFineConstraint, splitSegments, type OutputVocabularyLayout } from '../../src/decode/coarse-to-fine.js';
import { randomLogitsModel } from '../fixtures/random-logits-model.js';

// Vocabulary: 0 BOS, 1 SEP, 2 EOS, 3–6 syntax, 7–11 content.
const layout: OutputVocabularyLayout = { size: 12, separator: 1, eos: 2, syntaxIds: [3, 4, 5, 6], contentIds: [7, 8, 9, 10, 11] };
const syntax = new Set(layout.syntaxIds);
const content = new Set(layout.contentIds);

/** Builds a model with seeded random logits that favour EOS and SEP, so unconstrained output is usually malformed. */
function randomModel(seed: number): DecodingModel<Random> {
  const offsets = new Map([
    [layout.eos, 1.5],
    [layout.separator, 1],
  ]);
  return randomLogitsModel({ vocabSize: layout.size, seed, offsets });
}

async function constrainedDecoder(seed: number, maxNewTokens: number): Promise<Decoder> {
  const registry = new Registry();
  return registry.create('decoder', 'constrained', { mode: 'sample', seed, maxNewTokens, stopTokens: [layout.eos] }) as Promise<Decoder>;
}

describe('splitSegments', () => {
  it('splits a well-formed target', () => {
    expect(splitSegments([3, 1, 7, 1, 4, 5, 1, 8, 9, 2], layout)).toEqual({ s1: [3], s2: [7], s3: [4, 5], s4: [8, 9] });
  });

  it('rejects unequal S3 and S4', () => {
    expect(splitSegments([3, 1, 7, 1, 4, 5, 1, 8, 2], layout)).toBeNull();
  });

  it('rejects a missing separator', () => {
    expect(splitSegments([3, 1, 4, 5, 1, 8, 9, 2], layout)).toBeNull();
  });
});

describe('buildCooccurrence', () => {
  it('collects content per syntax token', () => {
    const table = buildCooccurrence(
      [
        [0, 3, 1, 7, 1, 4, 5, 1, 8, 9, 2],
        [0, 1, 1, 4, 1, 10, 2],
      ],
      layout,
    );
    expect([...(table.get(4) ?? [])].sort((a, b) => a - b)).toEqual([8, 10]);
    expect([...(table.get(5) ?? [])]).toEqual([9]);
    expect(table.has(3)).toBe(false);
  });

  it('rejects a malformed target', () => {
    expect(() => buildCooccurrence([[3, 1, 4, 2]], layout)).toThrow(/Training target 0 is malformed/u);
  });
});

describe('coarseToFineConstraint', () => {
  const cooccurrence = new Map([
    [4, new Set([8, 10])],
    [5, new Set([9])],
  ]);

  it('always yields a decodable sequence within the budget', async () => {
    for (const maxNewTokens of [6, 7, 9, 16, 40]) {
      for (let seed = 0; seed < 25; seed++) {
        const decoder = await constrainedDecoder(seed, maxNewTokens);
        const [result] = await decoder.decode(randomModel(seed), [[0]], {
          allowedTokens: coarseToFineConstraint(layout, cooccurrence, maxNewTokens),
        });
        const sequence = result.sequences[0];
        expect(sequence.finishReason, `budget ${maxNewTokens}, seed ${seed}`).toBe('stop');
        expect(sequence.tokens.length + 1).toBeLessThanOrEqual(maxNewTokens);
        const segments = splitSegments(sequence.tokens, layout);
        expect(segments, `budget ${maxNewTokens}, seed ${seed}`).not.toBeNull();
        if (segments === null) continue;
        expect(segments.s1.every((token) => syntax.has(token))).toBe(true);
        expect(segments.s2.every((token) => content.has(token))).toBe(true);
        expect(segments.s3.every((token) => syntax.has(token))).toBe(true);
        segments.s4.forEach((token, position) => {
          const allowed = cooccurrence.get(segments.s3[position]) ?? content;
          expect(allowed.has(token)).toBe(true);
        });
      }
    }
  });

  it('lets unconstrained sampling produce malformed output', async () => {
    const registry = new Registry();
    const decoder = (await registry.create('decoder', 'sample', { seed: 0, maxNewTokens: 16, stopTokens: [layout.eos] })) as Decoder;
    let malformed = 0;
    for (let seed = 0; seed < 20; seed++) {
      const [result] = await decoder.decode(randomModel(seed), [[0]], { seed });
      if (splitSegments(result.sequences[0].tokens, layout) === null) malformed++;
    }
    expect(malformed).toBeGreaterThan(10);
  });

  it('allows only EOS once S4 is complete', () => {
    const allowed = coarseToFineConstraint(layout, cooccurrence, 20);
    expect([...allowed({ generated: [1, 1, 4, 5, 1, 8, 9] })]).toEqual([layout.eos]);
    expect([...allowed({ generated: [1, 1, 4, 5, 1, 8] })]).toEqual([9]);
    expect([...allowed({ generated: [1, 1, 6, 1] })].sort((a, b) => a - b)).toEqual([...layout.contentIds]);
  });

  it('forces the final content token last', () => {
    // Content 11 plays the final-chasing token and syntax 6 the on-hold placeholder.
    const allowed = coarseToFineConstraint({ ...layout, finalContent: 11, continuation: 6 }, new Map([[5, new Set([9, 11])]]), 20);
    expect([...allowed({ generated: [1, 1] })].sort((a, b) => a - b)).toEqual([3, 4, 5]);
    expect([...allowed({ generated: [1, 1, 5, 5, 1] })]).toEqual([9]);
    expect([...allowed({ generated: [1, 1, 5, 5, 1, 9] })]).toEqual([11]);
    expect([...allowed({ generated: [1] })]).not.toContain(11);
  });

  it('rejects a budget below 6 tokens', () => {
    expect(() => coarseToFineConstraint(layout, cooccurrence, 5)).toThrow(/at least 6 for this vocabulary, got 5/u);
  });
});
