import { describe, expect, it } from 'vitest';
import { AbortError, UsageError } from '../errors.js';
import { Random } from '../random.js';
import { Registry } from '../registry/registry.js';
import { logSoftmax, sampleToken, topTokens } from './logits.js';
import type { Decoder, DecodingModel } from './model.js';

const STOP = 0;

/**
 * Next-token probabilities of a bigram model over 5 tokens: row = last token.
 * Built so that greedy and beam search disagree: greedy takes 1 -> 2 (0.5)
 * but the most likely finished sequence is 1 -> 3 -> stop (0.4 * 0.9).
 */
const BIGRAM = [
  [1, 0, 0, 0, 0],
  [0.1, 0, 0.5, 0.4, 0],
  [0.3, 0.3, 0, 0, 0.4],
  [0.9, 0, 0, 0, 0.1],
  [0.97, 0.01, 0.01, 0.01, 0],
];

interface BigramState {
  last: number[];
  disposed: boolean;
}

/** A deterministic DecodingModel whose logits are the log of the bigram table; it records every call. */
class BigramModel implements DecodingModel<BigramState> {
  readonly vocabSize = 5;
  readonly calls: string[] = [];
  disposeCount = 0;

  private logits(last: number): Float64Array {
    return Float64Array.from(BIGRAM[last], (p) => Math.log(p));
  }

  start(prompts: readonly (readonly number[])[]) {
    this.calls.push(`start ${prompts.length}`);
    const last = prompts.map((prompt) => prompt[prompt.length - 1]);
    return { state: { last, disposed: false }, logits: last.map((token) => this.logits(token)) };
  }

  step(state: BigramState, tokens: readonly number[]) {
    expect(state.disposed).toBe(false);
    expect(tokens).toHaveLength(state.last.length);
    this.calls.push(`step ${tokens.join(',')}`);
    state.last = [...tokens];
    return tokens.map((token) => this.logits(token));
  }

  reorder(state: BigramState, indices: readonly number[]) {
    this.calls.push(`reorder ${indices.join(',')}`);
    return { last: indices.map((i) => state.last[i]), disposed: false };
  }

  dispose(state: BigramState) {
    state.disposed = true;
    this.disposeCount += 1;
  }
}

const registry = new Registry({ manifests: [] });
const decoder = (name: string, options: Record<string, unknown> = {}): Promise<Decoder> =>
  registry.create('decoder', name, { stopTokens: [STOP], maxNewTokens: 8, ...options });

const ln = Math.log;

describe('greedy decoder', () => {
  it('follows the most likely token', async () => {
    const model = new BigramModel();
    const [result] = await (await decoder('greedy')).decode(model, [[1]]);
    expect(result.sequences).toHaveLength(1);
    expect(result.sequences[0].tokens).toEqual([2, 4]);
    expect(result.sequences[0].finishReason).toBe('stop');
    expect(result.sequences[0].stopToken).toBe(STOP);
    expect(result.sequences[0].logProb).toBeCloseTo(ln(0.5) + ln(0.4) + ln(0.97), 12);
    expect(model.disposeCount).toBe(1);
  });

  it('drops finished rows from the batch', async () => {
    const model = new BigramModel();
    const results = await (await decoder('greedy')).decode(model, [[1], [3]]);
    expect(results.map((r) => r.sequences[0].tokens)).toEqual([[2, 4], []]);
    expect(model.calls).toEqual(['start 2', 'reorder 0', 'step 2', 'step 4']);
  });

  it('stops at maxNewTokens', async () => {
    const [result] = await (await decoder('greedy', { maxNewTokens: 1 })).decode(new BigramModel(), [[1]]);
    expect(result.sequences[0]).toEqual({ tokens: [2], logProb: ln(0.5), finishReason: 'length' });
  });

  it('honours per-call overrides', async () => {
    const [result] = await (await decoder('greedy')).decode(new BigramModel(), [[1]], { stopTokens: [4], maxNewTokens: 5 });
    expect(result.sequences[0].tokens).toEqual([2]);
    expect(result.sequences[0].stopToken).toBe(4);
  });

  it('returns empty sequences for zero new tokens', async () => {
    const model = new BigramModel();
    const [result] = await (await decoder('greedy', { maxNewTokens: 0 })).decode(model, [[1]]);
    expect(result.sequences[0].tokens).toEqual([]);
    expect(model.calls).toEqual([]);
  });

  it('stops on abort and disposes the state', async () => {
    const model = new BigramModel();
    const controller = new AbortController();
    const run = (await decoder('greedy')).decode(model, [[1]], {
      signal: controller.signal,
      onToken: () => controller.abort(),
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(model.calls).toEqual(['start 1']);
    expect(model.disposeCount).toBe(1);
  });
});

describe('beam decoder', () => {
  it('finds the sequence greedy misses', async () => {
    const model = new BigramModel();
    const [result] = await (await decoder('beam', { width: 2, lengthPenalty: 0 })).decode(model, [[1]]);
    expect(result.sequences.map((s) => s.tokens)).toEqual([[3], [2, 4]]);
    expect(result.sequences[0].logProb).toBeCloseTo(ln(0.4 * 0.9), 12);
    expect(result.sequences[1].logProb).toBeCloseTo(ln(0.5 * 0.4 * 0.97), 12);
    expect(result.sequences.map((s) => s.finishReason)).toEqual(['stop', 'stop']);
    // Step 2 keeps [2,4] and [2,1], both children of beam [2] in row 0. [2,0] ranks third, so it is not a finished hypothesis.
    expect(model.calls).toEqual(['start 1', 'reorder 0,0', 'step 2,3', 'reorder 0,0', 'step 4,1']);
    expect(model.disposeCount).toBe(1);
  });

  it('scores with the length penalty', async () => {
    const [result] = await (await decoder('beam', { width: 2, lengthPenalty: 1 })).decode(new BigramModel(), [[1]]);
    // Lengths count the stop token: [3, stop] has length 2, [2, 4, stop] length 3.
    expect(result.sequences[0].score).toBeCloseTo(ln(0.36) / 2, 12);
    expect(result.sequences[1].score).toBeCloseTo(ln(0.194) / 3, 12);
  });

  it('returns numReturn sequences', async () => {
    const [result] = await (await decoder('beam', { width: 2, numReturn: 1, lengthPenalty: 0 })).decode(new BigramModel(), [[1]]);
    expect(result.sequences.map((s) => s.tokens)).toEqual([[3]]);
  });

  it('rejects numReturn above width', async () => {
    await expect(decoder('beam', { width: 2, numReturn: 3 })).rejects.toThrow('numReturn: got 3');
  });

  it('ranks unfinished beams at maxNewTokens', async () => {
    const [result] = await (await decoder('beam', { width: 2, lengthPenalty: 0, maxNewTokens: 1 })).decode(new BigramModel(), [[1]]);
    expect(result.sequences.map((s) => [s.tokens, s.finishReason])).toEqual([
      [[2], 'length'],
      [[3], 'length'],
    ]);
  });

  it('searches several prompts in one batch', async () => {
    const results = await (await decoder('beam', { width: 2, lengthPenalty: 0 })).decode(new BigramModel(), [[1], [4]]);
    expect(results[0].sequences.map((s) => s.tokens)).toEqual([[3], [2, 4]]);
    // From 4 the stop token (0.97) ranks first.
    expect(results[1].sequences[0]).toMatchObject({ tokens: [], finishReason: 'stop' });
    expect(results[1].sequences[0].logProb).toBeCloseTo(ln(0.97), 12);
  });

  it('equals greedy at width 1', async () => {
    const [beam] = await (await decoder('beam', { width: 1 })).decode(new BigramModel(), [[2]]);
    const [greedy] = await (await decoder('greedy')).decode(new BigramModel(), [[2]]);
    expect(beam.sequences[0].tokens).toEqual(greedy.sequences[0].tokens);
  });
});

describe('sample decoder', () => {
  it('repeats for the same seed', async () => {
    const sampler = await decoder('sample', { numSamples: 20, seed: 7 });
    const a = await sampler.decode(new BigramModel(), [[1]]);
    const b = await sampler.decode(new BigramModel(), [[1]]);
    expect(a).toEqual(b);
    const c = await sampler.decode(new BigramModel(), [[1]], { seed: 8 });
    expect(c).not.toEqual(a);
  });

  it('keeps each sample independent of batch size', async () => {
    const sampler = await decoder('sample', { numSamples: 3, seed: 11 });
    const alone = await sampler.decode(new BigramModel(), [[1]]);
    const batched = await sampler.decode(new BigramModel(), [[1], [2]]);
    expect(batched[0]).toEqual(alone[0]);
  });

  it('matches the model distribution', async () => {
    const sampler = await decoder('sample', { numSamples: 4000, maxNewTokens: 1, seed: 3 });
    const [result] = await sampler.decode(new BigramModel(), [[1]]);
    const counts = [0, 0, 0, 0, 0];
    for (const sequence of result.sequences) counts[sequence.stopToken ?? sequence.tokens[0]] += 1;
    // Four standard deviations of a binomial count with n = 4000.
    for (const [token, p] of [[0, 0.1], [2, 0.5], [3, 0.4]] as const) {
      expect(Math.abs(counts[token] - 4000 * p)).toBeLessThan(4 * Math.sqrt(4000 * p * (1 - p)));
    }
    expect(counts[1] + counts[4]).toBe(0);
  });

  it('flattens the distribution with temperature', async () => {
    const sampler = await decoder('sample', { numSamples: 4000, maxNewTokens: 1, seed: 5, temperature: 2 });
    const [result] = await sampler.decode(new BigramModel(), [[1]]);
    const stops = result.sequences.filter((s) => s.finishReason === 'stop').length;
    // p^(1/T) renormalized: sqrt(0.1) / (sqrt(0.1) + sqrt(0.5) + sqrt(0.4)).
    const p = Math.sqrt(0.1) / (Math.sqrt(0.1) + Math.sqrt(0.5) + Math.sqrt(0.4));
    expect(Math.abs(stops - 4000 * p)).toBeLessThan(4 * Math.sqrt(4000 * p * (1 - p)));
  });

  it('equals greedy with topK 1 or temperature 0', async () => {
    for (const options of [{ topK: 1 }, { temperature: 0 }]) {
      const [result] = await (await decoder('sample', { ...options, numSamples: 5 })).decode(new BigramModel(), [[1]]);
      for (const sequence of result.sequences) expect(sequence.tokens).toEqual([2, 4]);
    }
  });

  it('cuts the tail with topP', async () => {
    const [result] = await (await decoder('sample', { topP: 0.85, numSamples: 300, maxNewTokens: 1 })).decode(new BigramModel(), [[1]]);
    const first = new Set(result.sequences.map((s) => s.tokens[0] ?? s.stopToken));
    // 0.5 + 0.4 reaches 0.85, so the stop token (0.1) is never drawn.
    expect([...first].sort()).toEqual([2, 3]);
  });
});

describe('topTokens', () => {
  it('returns the k best with ties by id', () => {
    const scores = Float64Array.from([0.5, 2, -Infinity, 2, 1, 0.5, 3]);
    expect(topTokens(scores, 3)).toEqual([6, 1, 3]);
    expect(topTokens(scores, 6)).toEqual([6, 1, 3, 4, 0, 5]);
    expect(topTokens(scores, 10)).toEqual([6, 1, 3, 4, 0, 5]);
  });
});

describe('sampleToken', () => {
  it('inverts the cumulative distribution', () => {
    const scores = logSoftmax(Float64Array.from([0.2, 0.5, 0.3], Math.log));
    const u = new Random(99).nextFloat();
    // Order by probability: token 1 (0.5), token 2 (0.3), token 0 (0.2).
    let expected = 0;
    if (u < 0.5) expected = 1;
    else if (u < 0.8) expected = 2;
    expect(sampleToken(scores, { temperature: 1, topK: 0, topP: 1 }, new Random(99))).toBe(expected);
  });
});

describe('constrained decoder', () => {
  it('picks only allowed tokens', async () => {
    const positions: string[] = [];
    const [result] = await (await decoder('constrained')).decode(new BigramModel(), [[1]], {
      allowedTokens: ({ promptIndex, prompt, generated }) => {
        positions.push(`${promptIndex}:${prompt.join(',')}:${generated.join(',')}`);
        return generated.length < 2 ? new Set([3, 4]) : new Set([STOP]);
      },
    });
    expect(result.sequences[0].tokens).toEqual([3, 4]);
    expect(result.sequences[0].logProb).toBeCloseTo(ln(0.4) + ln(0.1) + ln(0.97), 12);
    expect(positions).toEqual(['0:1:', '0:1:3', '0:1:3,4']);
  });

  it('accepts a mask', async () => {
    const mask = Uint8Array.from([1, 0, 0, 1, 0]);
    const [result] = await (await decoder('constrained')).decode(new BigramModel(), [[1]], { allowedTokens: () => mask });
    expect(result.sequences[0].tokens).toEqual([3]);
  });

  it('samples within the constraint', async () => {
    const sampler = await decoder('constrained', { mode: 'sample', seed: 1 });
    for (let seed = 0; seed < 20; seed++) {
      const [result] = await sampler.decode(new BigramModel(), [[1]], { seed, allowedTokens: () => new Set([0, 2, 4]) });
      for (const token of result.sequences[0].tokens) expect([2, 4]).toContain(token);
    }
  });

  it('requires an allowedTokens callback', async () => {
    await expect((await decoder('constrained')).decode(new BigramModel(), [[1]])).rejects.toBeInstanceOf(UsageError);
  });

  it('reports an empty allowed set', async () => {
    const run = (await decoder('constrained')).decode(new BigramModel(), [[3]], { allowedTokens: () => new Set([1, 2]) });
    await expect(run).rejects.toThrow('No token is allowed for prompt 0 after 0 generated tokens');
  });

  it('rejects ids outside the vocabulary', async () => {
    const run = (await decoder('constrained')).decode(new BigramModel(), [[1]], { allowedTokens: () => new Set([9]) });
    await expect(run).rejects.toThrow('token id 9, outside the vocabulary [0, 4]');
  });

  it('constrains beam search too', async () => {
    const [result] = await (await decoder('beam', { width: 2, lengthPenalty: 0 })).decode(new BigramModel(), [[1]], {
      allowedTokens: ({ generated }) => (generated.length === 0 ? new Set([2]) : new Set([0, 1, 2, 3, 4])),
    });
    expect(result.sequences.map((s) => s.tokens)).toEqual([[2, 4], [2]]);
  });
});
