/** SparseGPT: adaptive per-block masks with OBS weight updates from the inverse Hessian. */
import { definePlugin } from '@sculpt/core';
import { z } from 'zod';
import { sparseGpt } from '../algorithms/sparsegpt.js';
import type { GemmBackend } from '../algorithms/linalg.js';
import type { Pruner } from '../types.js';
import { requireStatistic } from './common.js';

export const sparseGptOptions = z
  .object({
    blockSize: z.number().int().positive().default(128).describe('columns per block; the unstructured mask is chosen per block'),
    percdamp: z.number().positive().default(0.01).describe('damping λ as a fraction of the mean Hessian diagonal'),
  })
  .strict();

export type SparseGptPluginOptions = z.output<typeof sparseGptOptions>;

export function createSparseGptPruner(options: SparseGptPluginOptions = { blockSize: 128, percdamp: 0.01 }, gemm?: GemmBackend): Pruner {
  return {
    statistics: ['hessian'],
    supportsPattern: true,
    async pruneLayer(layer, context) {
      const result = await sparseGpt(layer.weight, requireStatistic(layer, 'hessian'), {
        sparsity: layer.sparsity,
        pattern: layer.pattern,
        blockSize: options.blockSize,
        percdamp: options.percdamp,
        gemm: gemm ?? context.gemm,
        factorDevice: context.device,
        overwriteWeight: true,
      });
      return {
        weight: result.weight,
        mask: result.mask,
        loss: result.loss,
        details: { deadColumns: result.deadColumns, percdampUsed: result.percdampUsed },
      };
    },
  };
}

export default definePlugin({
  meta: {
    name: 'sparsegpt',
    kind: 'pruner',
    version: '1.0.0',
    description: 'SparseGPT: per-block adaptive masks with OBS updates of the remaining weights (blocksize 128, percdamp 0.01)',
    options: sparseGptOptions,
  },
  create: (options) => createSparseGptPruner(options),
});
