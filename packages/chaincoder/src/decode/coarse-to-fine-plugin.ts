/**
 * The `coarse-to-fine` decoder plugin: core's constrained decoder with the
 * ChainCoder constraint of a trained model folder (S1, S2, S3, S4 in order,
 * exactly three separators, len(S4) = len(S3), and S4 tokens that fit the
 * layout token above them).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { Registry, definePlugin, type Decoder } from '@sculpt/core';
import { readVocabularies } from '../train/checkpoint.js';
import { coarseToFineConstraint } from './coarse-to-fine.js';
import { outputLayout } from './generate.js';
import { checkpointFolder, readCooccurrence } from './trained-model.js';

const options = z.object({
  model: z.string().min(1).describe('Output folder of `sculpt chaincoder train` (holds checkpoint/ and cooccurrence.json)'),
  mode: z.enum(['greedy', 'sample']).default('greedy').describe('How a token is picked among the allowed ones'),
  temperature: z.number().min(0).default(1).describe('Softmax temperature when sampling; 0 picks the most likely token'),
  topP: z.number().gt(0).max(1).default(1).describe('Sample only among the smallest set of tokens whose probability reaches p'),
  seed: z.number().int().default(0).describe('Seed of the sampling generator'),
  maxNewTokens: z.number().int().min(1).default(512).describe('Token budget when the request gives none; segments are closed early to fit it'),
});

export default definePlugin({
  meta: {
    name: 'coarse-to-fine',
    kind: 'decoder',
    version: '1.0.0',
    description: 'ChainCoder coarse-to-fine decoding: S1, S2, S3, S4 in order with layout-consistent S4 tokens',
    options,
  },
  async create(settings): Promise<Decoder> {
    const folder = checkpointFolder(settings.model);
    const vocabularies = await readVocabularies(join(folder, 'vocabularies.json'));
    const cooccurrence = await readCooccurrence(join(settings.model, 'cooccurrence.json'));
    const layout = outputLayout(vocabularies.output);
    const constrained = (await new Registry().create('decoder', 'constrained', {
      mode: settings.mode,
      temperature: settings.temperature,
      topP: settings.topP,
      seed: settings.seed,
    })) as Decoder;
    return {
      name: 'coarse-to-fine',
      decode: (model, prompts, request = {}) => {
        const maxNewTokens = request.maxNewTokens ?? settings.maxNewTokens;
        return constrained.decode(model, prompts, {
          ...request,
          maxNewTokens,
          allowedTokens: coarseToFineConstraint(layout, cooccurrence, maxNewTokens),
        });
      },
    };
  },
});
