/** Option schemas shared by the decoder plugins. */
import { z } from 'zod';

export const stoppingOptions = {
  maxNewTokens: z.number().int().min(0).default(64).describe('Maximum number of tokens generated per sequence'),
  stopTokens: z.array(z.number().int().min(0)).default([]).describe('Token ids that end a sequence (not included in the output)'),
};

export const samplingOptions = {
  temperature: z.number().min(0).default(1).describe('Softmax temperature; 0 picks the most likely token'),
  topK: z.number().int().min(0).default(0).describe('Sample only among the k most likely tokens; 0 disables the filter'),
  topP: z.number().gt(0).max(1).default(1).describe('Sample only among the smallest set of tokens whose probability reaches p; 1 disables the filter'),
  seed: z.number().int().default(0).describe('Seed of the sampling generator (core Random)'),
};
