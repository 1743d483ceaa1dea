/**
 * OWL: Wanda with a per-block sparsity that falls where a block has more
 * activation outliers. A dense pre-pass measures each block's outlier ratio.
 */
import { definePlugin } from '@sculpt/core';
import { z } from 'zod';
import { owlSchedule } from '../algorithms/schedules.js';
import type { Pruner } from '../types.js';
import { createWandaPruner } from './wanda.js';

const options = z
  .object({
    /** λ, OWL's `--Lamda`: block sparsities span p ± λ. */
    lambda: z.number().min(0).max(0.5).default(0.08).describe('block sparsities span p ± lambda'),
    /** M, OWL's `--Hyper_m`: the outlier threshold as a multiple of the block's mean score. The OWL README runs M = 5. */
    outlierMultiple: z.number().positive().default(5).describe('a score is an outlier above this multiple of its block mean'),
  })
  .strict();

export function createOwlPruner(settings: z.output<typeof options>): Pruner {
  const wanda = createWandaPruner({ variant: false });
  return {
    statistics: wanda.statistics,
    supportsPattern: true,
    schedule: owlSchedule({ lambda: settings.lambda, outlierMultiple: settings.outlierMultiple }),
    pruneLayer: (layer, context) => wanda.pruneLayer(layer, context),
  };
}

export default definePlugin({
  meta: {
    name: 'owl',
    kind: 'pruner',
    version: '1.0.0',
    description: 'OWL: Wanda with per-block sparsity set from each block’s activation-outlier ratio (λ 0.08, M 5)',
    options,
  },
  create: (settings) => createOwlPruner(settings),
});
