/** Greedy decoding: the most likely token at every step (lowest id on a tie). */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import { argmax } from './logits.js';
import type { Decoder } from './model.js';
import { stoppingOptions } from './options.js';
import { runTokenLoop } from './token-loop.js';

const options = z.object({ ...stoppingOptions });

export default definePlugin({
  meta: {
    name: 'greedy',
    kind: 'decoder',
    version: '1.0.0',
    description: 'Pick the most likely token at every step',
    options,
  },
  create(settings): Decoder {
    return {
      name: 'greedy',
      decode: (model, prompts, request = {}) =>
        runTokenLoop(
          model,
          prompts,
          {
            maxNewTokens: request.maxNewTokens ?? settings.maxNewTokens,
            stopTokens: request.stopTokens ?? settings.stopTokens,
            samplesPerPrompt: 1,
          },
          request,
          (scores) => (scores.some((v) => v !== -Infinity) ? argmax(scores) : -1),
        ),
    };
  },
});
