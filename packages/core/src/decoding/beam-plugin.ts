/** The `beam` decoder plugin; the search itself lives in beam.ts. */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { definePlugin } from '../plugin.js';
import { beamSearch } from './beam.js';
import type { Decoder } from './model.js';
import { stoppingOptions } from './options.js';

const options = z
  .object({
    ...stoppingOptions,
    width: z.number().int().min(1).default(4).describe('Number of live beams per prompt'),
    lengthPenalty: z
      .number()
      .default(1)
      .describe('Exponent of the length in the score logProb / length^p; > 0 favours longer sequences'),
    numReturn: z.number().int().min(1).optional().describe('Sequences returned per prompt (default: width)'),
    earlyStopping: z.boolean().default(false).describe('Stop a prompt as soon as it has width finished sequences'),
  })
  .refine((value) => value.numReturn === undefined || value.numReturn <= value.width, {
    message: 'numReturn must not exceed width',
    path: ['numReturn'],
  });

export default definePlugin({
  meta: {
    name: 'beam',
    kind: 'decoder',
    version: '1.0.0',
    description: 'Beam search with a length penalty',
    options,
  },
  create(settings): Decoder {
    return {
      name: 'beam',
      decode: async (model, prompts, request = {}) => {
        if (request.seed !== undefined) throw new UsageError('The beam decoder is deterministic and takes no seed');
        return beamSearch(model, prompts, {
          width: settings.width,
          lengthPenalty: settings.lengthPenalty,
          numReturn: settings.numReturn ?? settings.width,
          earlyStopping: settings.earlyStopping,
          maxNewTokens: request.maxNewTokens ?? settings.maxNewTokens,
          stopTokens: request.stopTokens ?? settings.stopTokens,
        }, request);
      },
    };
  },
});
