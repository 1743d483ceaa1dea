/**
 * RIA (Zhang et al., 2024): relative importance (|W| over its row sum plus
 * over its column sum) times (√s_j)^a. Per-matrix selection by default, per
 * output row on request, N:M per row (without channel reallocation);
 * optionally OBS reconstruction on the chosen mask.
 */
import { definePlugin } from '@sculpt/core';
import { z } from 'zod';
import { riaScore } from '../algorithms/scorers.js';
import { selectPerMatrix, selectPerRow } from '../algorithms/selectors.js';
import { sparseGpt } from '../algorithms/sparsegpt.js';
import type { Pruner } from '../types.js';
import { requireStatistic, selectMask, zeroMasked } from './common.js';

const options = z
  .object({
    exponent: z.number().default(0.5).describe('power a of the activation norm'),
    perOutputRow: z.boolean().default(false).describe("compare scores within each output row (Wanda's group) instead of the whole matrix"),
    reconstruction: z.boolean().default(false).describe("update the kept weights with SparseGPT's OBS step on the chosen mask"),
  })
  .strict();

export function createRiaPruner(settings: z.output<typeof options>): Pruner {
  return {
    statistics: settings.reconstruction ? ['rowScaler', 'hessian'] : ['rowScaler'],
    supportsPattern: true,
    async pruneLayer(layer, context) {
      const scores = riaScore(layer.weight, requireStatistic(layer, 'rowScaler'), settings.exponent);
      // NOTE: N:M runs without RIA's channel reallocation (a column permutation refined by linear-sum assignment
      // before the N:M choice). Its rule for assigning columns to groups, the assignment's cost matrix, the number
      // of refinement rounds and whether the permutation is undone after masking are not specified, so N:M groups
      // here are the weight's own consecutive columns.
      const mask = selectMask(layer, scores, settings.perOutputRow ? selectPerRow : selectPerMatrix);
      if (!settings.reconstruction) return zeroMasked(layer, mask);
      const result = await sparseGpt(layer.weight, requireStatistic(layer, 'hessian'), { sparsity: layer.sparsity, fixedMask: mask, gemm: context.gemm, factorDevice: context.device });
      return { weight: result.weight, mask: result.mask, loss: result.loss };
    },
  };
}

export default definePlugin({
  meta: {
    name: 'ria',
    kind: 'pruner',
    version: '1.0.0',
    description: 'RIA: relative importance times activation norm^0.5, per matrix (or per row / N:M), optional OBS reconstruction',
    options,
  },
  create: (settings) => createRiaPruner(settings),
});
