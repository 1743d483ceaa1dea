import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decoderPlugins, getLogger, type Decoder } from '@sculpt/core';
import { CausalLMDecoder, loadLlama2c, type CausalLM } from '../../src/models/index.js';
import { decodeWithPieces, storiesModel, storiesTokenizer, STORIES_REFERENCE_TEXT } from './fixtures.js';

let model: CausalLM;

async function decoder(name: string, options: Record<string, unknown>): Promise<Decoder> {
  const entry = decoderPlugins.find((candidate) => candidate.name === name)!;
  const plugin = await entry.load();
  const parsed = plugin.meta.options.parse(options);
  return (await plugin.create(parsed, { logger: getLogger('test') })) as Decoder;
}

beforeAll(async () => {
  model = await loadLlama2c(storiesModel);
});

afterAll(async () => {
  await model.close();
});

describe('decoder plugins over CausalLM', () => {
  it('greedy from BOS reproduces reference', async () => {
    const greedy = await decoder('greedy', { maxNewTokens: 511, stopTokens: [1] });
    const [result] = await greedy.decode(new CausalLMDecoder(model), [[1]]);
    const text = decodeWithPieces(await readFile(storiesTokenizer), result.sequences[0].tokens);
    expect(text.startsWith(STORIES_REFERENCE_TEXT)).toBe(true);
    expect(result.sequences[0].finishReason).toBe('stop');
  });

  it('greedy equals uncached forward', async () => {
    const greedy = await decoder('greedy', { maxNewTokens: 12 });
    const prompt = [1, 403, 407, 261];
    const [result] = await greedy.decode(new CausalLMDecoder(model), [prompt]);
    const sequence = prompt.slice();
    for (let step = 0; step < 12; step++) {
      const logits = await model.forward(sequence);
      const last = Array.from(logits.subarray((sequence.length - 1) * 512));
      sequence.push(last.indexOf(Math.max(...last)));
    }
    expect(result.sequences[0].tokens).toEqual(sequence.slice(prompt.length));
  });

  it('sampling is reproducible by seed', async () => {
    const run = async (seed: number) => {
      const sample = await decoder('sample', { maxNewTokens: 30, temperature: 0.9, topK: 40, topP: 0.9, seed });
      const results = await sample.decode(new CausalLMDecoder(model), [[1], [1, 403]]);
      return results.map((result) => result.sequences[0].tokens);
    };
    const first = await run(5);
    expect(await run(5)).toEqual(first);
    expect(await run(6)).not.toEqual(first);
  });

  it('beam search forks caches', async () => {
    const beam = await decoder('beam', { maxNewTokens: 8, numBeams: 3 });
    const results = await beam.decode(new CausalLMDecoder(model), [[1, 403]]);
    expect(results[0].sequences[0].tokens.length).toBeGreaterThan(0);
  });
});
