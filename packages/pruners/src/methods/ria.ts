/**
 * RIA (Zhang et al., 2024): relative importance (|W| over its row sum plus
 * over its column sum) times (√s_j)^a. Per-matrix selection by default, per
 * output row on request, N:M per row with channel reallocation on by default
 * (see channel-reallocation.ts); optionally OBS reconstruction on the chosen
 * mask.
 */
import { definePlugin } from '@sculpt/core';
import { z } from 'zod';
import { riaScore } from '../algorithms/scorers.js';
import { selectPerMatrix, selectPerRow } from '../algorithms/selectors.js';
import type { Mask, Matrix } from '../algorithms/matrix.js';
import { sparseGpt } from '../algorithms/sparsegpt.js';
import type { LayerPruneResult, LayerToPrune, Pruner } from '../types.js';
import { reallocateChannels, selectNMInOrder } from './channel-reallocation.js';
import { requireStatistic, selectMask, zeroMasked } from './common.js';

const options = z
  .object({
    exponent: z.number().default(0.5).describe('power a of the activation norm'),
    perOutputRow: z.boolean().default(false).describe("compare scores within each output row (Wanda's group) instead of the whole matrix"),
    reconstruction: z.boolean().default(false).describe("update the kept weights with SparseGPT's OBS step on the chosen mask"),
    channelReallocation: z
      .boolean()
      .default(true)
      .describe('with an N:M pattern, permute input columns before choosing the mask so that more of the score survives (the mask is mapped back to the original order)'),
    reallocationRounds: z.number().int().min(0).default(32).describe('maximum linear-sum assignment rounds of channel reallocation'),
    reallocationWindow: z.number().int().min(2).default(256).describe('maximum number of N:M groups in one assignment problem'),
  })
  .strict();

export function createRiaPruner(settings: z.output<typeof options>): Pruner {
  return {
    statistics: settings.reconstruction ? ['rowScaler', 'hessian'] : ['rowScaler'],
    supportsPattern: true,
    async pruneLayer(layer, context) {
      const scores = riaScore(layer.weight, requireStatistic(layer, 'rowScaler'), settings.exponent);
      const { mask, details } = chooseMask(layer, scores, settings);
      if (!settings.reconstruction) return { ...zeroMasked(layer, mask), details };
      const result = await sparseGpt(layer.weight, requireStatistic(layer, 'hessian'), {
        sparsity: layer.sparsity,
        fixedMask: mask,
        gemm: context.gemm,
        factorDevice: context.device,
        overwriteWeight: true,
      });
      return { weight: result.weight, mask: result.mask, loss: result.loss, details };
    },
  };
}

/** Picks the mask, reallocating channels first for N:M when enabled, and reports the retained score it gained. */
function chooseMask(layer: LayerToPrune, scores: Matrix, settings: z.output<typeof options>): { mask: Mask; details?: LayerPruneResult['details'] } {
  if (layer.pattern === undefined || !settings.channelReallocation) {
    return { mask: selectMask(layer, scores, settings.perOutputRow ? selectPerRow : selectPerMatrix) };
  }

  // NOTE: the mask is N:M over the reallocated column groups, not over consecutive columns of the stored weight,
  // so a 2:4 sparse kernel would need the columns (and the matching inputs) reordered by `order` first.
  const reallocation = reallocateChannels(scores, layer.pattern, { maxRounds: settings.reallocationRounds, windowGroups: settings.reallocationWindow });
  const mask = selectNMInOrder(scores, layer.pattern, reallocation.order);
  return {
    mask,
    details: {
      retainedScoreOriginal: reallocation.retainedOriginal,
      retainedScoreReallocated: reallocation.retainedFinal,
      reallocationRounds: reallocation.rounds,
    },
  };
}

export default definePlugin({
  meta: {
    name: 'ria',
    kind: 'pruner',
    // 1.1.0: N:M masks use channel reallocation by default.
    version: '1.1.0',
    description: 'RIA: relative importance times activation norm^0.5, per matrix (or per row / N:M with channel reallocation), optional OBS reconstruction',
    options,
  },
  create: (settings) => createRiaPruner(settings),
});
