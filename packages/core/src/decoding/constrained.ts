/**
 * Constrained decoding: greedy or sampled decoding where a caller-supplied
 * `allowedTokens(position)` callback restricts every step (ChainCoder's
 * coarse-to-fine decoding allows only the tokens of the current layer).
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { definePlugin } from '../plugin.js';
import { argmax } from './logits.js';
import type { Decoder } from './model.js';
import { samplingOptions, stoppingOptions } from './options.js';
import { samplingChooser } from './sample.js';
import { runTokenLoop } from './token-loop.js';

const options = z.object({
  ...stoppingOptions,
  ...samplingOptions,
  mode: z.enum(['greedy', 'sample']).default('greedy').describe('How a token is picked among the allowed ones'),
});

export default definePlugin({
  meta: {
    name: 'constrained',
    kind: 'decoder',
    version: '1.0.0',
    description: 'Greedy or sampled decoding restricted at each step by an allowedTokens callback',
    options,
  },
  create(settings): Decoder {
    return {
      name: 'constrained',
      decode: async (model, prompts, request = {}) => {
        if (!request.allowedTokens) {
          throw new UsageError('The constrained decoder needs an allowedTokens callback in the decode request');
        }
        const choose =
          settings.mode === 'greedy'
            ? (scores: Float64Array) => (scores.some((v) => v !== -Infinity) ? argmax(scores) : -1)
            : samplingChooser(request.seed ?? settings.seed, prompts.length, 1, settings);
        return runTokenLoop(
          model,
          prompts,
          {
            maxNewTokens: request.maxNewTokens ?? settings.maxNewTokens,
            stopTokens: request.stopTokens ?? settings.stopTokens,
            samplesPerPrompt: 1,
          },
          request,
          choose,
        );
      },
    };
  },
});
