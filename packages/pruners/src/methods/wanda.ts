/**
 * Wanda (Sun et al., 2024): score |W_ij|·√s_j, prune ⌊C_in·p⌋ per output row,
 * or N:M per row. The α-variant replaces the per-row count with one
 * cumulative-sum threshold fraction per layer found by bisection.
 */
import { definePlugin } from '@sculpt/core';
import { z } from 'zod';
import { wandaScore } from '../algorithms/scorers.js';
import { selectAlphaVariant, selectPerRow } from '../algorithms/selectors.js';
import type { LayerToPrune, Pruner } from '../types.js';
import { requireStatistic, selectMask, zeroMasked } from './common.js';

export const wandaOptions = z
  .object({
    /** Use the α-variant (cumulative-sum threshold) for unstructured sparsity. */
    variant: z.boolean().default(false).describe("use Wanda's α cumulative-sum threshold instead of a fixed count per row (unstructured only)"),
  })
  .strict();

export type WandaOptions = z.output<typeof wandaOptions>;

/** Wanda's mask for one layer; shared with the Wanda + OBS method. */
export function wandaMask(layer: LayerToPrune, variant: boolean): { mask: ReturnType<typeof selectPerRow>; alpha?: number } {
  const scores = wandaScore(layer.weight, requireStatistic(layer, 'rowScaler'));
  if (variant && layer.pattern === undefined) {
    const selection = selectAlphaVariant(scores, layer.sparsity);
    return { mask: selection.mask, alpha: selection.alpha };
  }
  return { mask: selectMask(layer, scores, selectPerRow) };
}

export function createWandaPruner(options: WandaOptions = { variant: false }): Pruner {
  return {
    statistics: ['rowScaler'],
    supportsPattern: true,
    pruneLayer(layer) {
      const { mask, alpha } = wandaMask(layer, options.variant);
      const result = zeroMasked(layer, mask);
      return alpha === undefined ? result : { ...result, details: { alpha } };
    },
  };
}

export default definePlugin({
  meta: {
    name: 'wanda',
    kind: 'pruner',
    version: '1.0.0',
    description: 'Wanda: prune the smallest |W|·‖x‖ in every output row (or N:M group); variant=true uses the α cumulative-sum rule',
    options: wandaOptions,
  },
  create: (options) => createWandaPruner(options),
});
