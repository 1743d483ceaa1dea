/**
 * Ancestral sampling with temperature, top-k and top-p. Each generated
 * sequence draws from its own generator, seeded from the decoder seed, so a
 * sequence's tokens do not depend on when the other sequences of the batch end.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import { Random } from '../random.js';
import { sampleToken, type SamplingOptions } from './logits.js';
import type { DecodeRequest, Decoder, DecodeResult, DecodingModel } from './model.js';
import { samplingOptions, stoppingOptions } from './options.js';
import { runTokenLoop, type TokenChooser } from './token-loop.js';

const options = z.object({
  ...stoppingOptions,
  ...samplingOptions,
  numSamples: z.number().int().min(1).default(1).describe('Sequences sampled per prompt'),
});

/** One generator per (prompt, sample), derived in a fixed order from the seed. */
export function samplingChooser(seed: number, promptCount: number, samplesPerPrompt: number, sampling: SamplingOptions): TokenChooser {
  const root = new Random(seed);
  const generators = Array.from({ length: promptCount * samplesPerPrompt }, () => new Random(root.nextUint32()));
  return (scores, row) => {
    if (!scores.some((v) => v !== -Infinity)) return -1;
    return sampleToken(scores, sampling, generators[row.promptIndex * samplesPerPrompt + row.sample]);
  };
}

export async function decodeSampled<State>(
  model: DecodingModel<State>,
  prompts: readonly (readonly number[])[],
  request: DecodeRequest,
  settings: z.output<typeof options>,
): Promise<DecodeResult[]> {
  const seed = request.seed ?? settings.seed;
  return runTokenLoop(
    model,
    prompts,
    {
      maxNewTokens: request.maxNewTokens ?? settings.maxNewTokens,
      stopTokens: request.stopTokens ?? settings.stopTokens,
      samplesPerPrompt: settings.numSamples,
    },
    request,
    samplingChooser(seed, prompts.length, settings.numSamples, settings),
  );
}

export default definePlugin({
  meta: {
    name: 'sample',
    kind: 'decoder',
    version: '1.0.0',
    description: 'Sample each token with temperature, top-k and top-p filtering',
    options,
  },
  create(settings): Decoder {
    return { name: 'sample', decode: (model, prompts, request = {}) => decodeSampled(model, prompts, request, settings) };
  },
});
