/** Magnitude pruning: |W| with one threshold per matrix (≤, so at least ⌊numel·p⌋ + 1), or N:M per row. */
import { definePlugin } from '@sculpt/core';
import { z } from 'zod';
import { magnitudeScore } from '../algorithms/scorers.js';
import { selectPerMatrix } from '../algorithms/selectors.js';
import type { Pruner } from '../types.js';
import { selectMask, zeroMasked } from './common.js';

export function createMagnitudePruner(): Pruner {
  return {
    statistics: [],
    supportsPattern: true,
    pruneLayer(layer) {
      return zeroMasked(layer, selectMask(layer, magnitudeScore(layer.weight), selectPerMatrix));
    },
  };
}

export default definePlugin({
  meta: {
    name: 'magnitude',
    kind: 'pruner',
    version: '1.0.0',
    description: 'Prune the smallest |W| per matrix (or per N:M group); needs no calibration data',
    options: z.object({}).strict(),
  },
  create: () => createMagnitudePruner(),
});
