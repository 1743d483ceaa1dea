/** Wanda's mask held fixed, then SparseGPT's OBS updates of the kept weights (Wanda's "seq" ablation). */
import { definePlugin } from '@sculpt/core';
import { z } from 'zod';
import { sparseGpt } from '../algorithms/sparsegpt.js';
import type { Pruner } from '../types.js';
import { requireStatistic } from './common.js';
import { wandaMask } from './wanda.js';

const options = z
  .object({
    variant: z.boolean().default(false).describe("use Wanda's α-variant mask"),
    blockSize: z.number().int().positive().default(128).describe('columns per OBS block'),
    percdamp: z.number().positive().default(0.01).describe('damping λ as a fraction of the mean Hessian diagonal'),
  })
  .strict();

export function createWandaObsPruner(settings: z.output<typeof options>): Pruner {
  return {
    statistics: ['rowScaler', 'hessian'],
    supportsPattern: true,
    async pruneLayer(layer, context) {
      const { mask, alpha } = wandaMask(layer, settings.variant);
      const result = await sparseGpt(layer.weight, requireStatistic(layer, 'hessian'), {
        sparsity: layer.sparsity,
        fixedMask: mask,
        blockSize: settings.blockSize,
        percdamp: settings.percdamp,
        gemm: context.gemm,
        factorDevice: context.device,
        overwriteWeight: true,
      });
      return {
        weight: result.weight,
        mask: result.mask,
        loss: result.loss,
        details: { deadColumns: result.deadColumns, percdampUsed: result.percdampUsed, alpha: alpha ?? null },
      };
    },
  };
}

export default definePlugin({
  meta: {
    name: 'wanda+obs',
    kind: 'pruner',
    version: '1.0.0',
    description: "Wanda's mask with SparseGPT's OBS weight update on that fixed mask",
    options,
  },
  create: (settings) => createWandaObsPruner(settings),
});
