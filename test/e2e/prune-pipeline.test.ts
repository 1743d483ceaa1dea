/**
 * The block-by-block pipeline on a real llama2.c model file written by the
 * test and loaded through the runtime's model loader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSparseGptPruner, createWandaPruner, pruneModel, type LayerToPrune, type Pruner } from '@sculpt/pruners';
import { loadModel } from '@sculpt/runtime-gpu';
import { Random } from '@sculpt/core';
import { writeTinyLlama } from './prune-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sculpt-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const modelFile = join(dir, 'tiny.bin');
writeTinyLlama(modelFile, { dim: 16, hidden: 32, layers: 2, heads: 4, kvHeads: 2, vocab: 40, seqLen: 32, seed: 3 });

const random = new Random(11);
const sequences = Array.from({ length: 4 }, () => ({ tokens: Array.from({ length: 12 }, () => random.int(0, 39)) }));

/** Records the row scaler each layer was offered; prunes block 0 completely when asked. */
function spy(zeroBlockZero: boolean): { pruner: Pruner; seen: Map<string, Float64Array> } {
  const wanda = createWandaPruner();
  const seen = new Map<string, Float64Array>();
  return {
    seen,
    pruner: {
      statistics: ['rowScaler'],
      supportsPattern: false,
      pruneLayer(layer: LayerToPrune, context) {
        seen.set(layer.name, Float64Array.from(layer.statistics.rowScaler!));
        if (zeroBlockZero && layer.block === 0) {
          const size = layer.weight.data.length;
          return { weight: { ...layer.weight, data: new Float64Array(size) }, mask: { rows: layer.weight.rows, cols: layer.weight.cols, data: new Uint8Array(size).fill(1) } };
        }
        return wanda.pruneLayer(layer, context);
      },
    },
  };
}

async function prune(pruner: Pruner, options: { propagateError?: boolean } = {}) {
  const model = await loadModel(modelFile);
  try {
    return await pruneModel(model, { pruner, sparsity: 0.5, sequences, ...options });
  } finally {
    await model.close();
  }
}

describe('pipeline on a llama2.c model', () => {
  it('reaches the requested sparsity', async () => {
    const wanda = await prune(createWandaPruner());
    expect(wanda.actualSparsity).toBe(0.5);
    expect(wanda.layers.map((layer) => layer.name)).toContain('layers.1.mlp.down_proj');
    expect(wanda.layers).toHaveLength(14);

    const sparse = await prune(createSparseGptPruner());
    expect(sparse.actualSparsity).toBeGreaterThan(0.5);
    expect(sparse.actualSparsity).toBeLessThan(0.51);
  });

  it('block 1 sees the pruned outputs of block 0', async () => {
    const pruned = spy(true);
    const dense = spy(false);
    await prune(pruned.pruner);
    await prune(dense.pruner);

    // Block 0's statistics come from the same dense inputs in both runs.
    expect(Array.from(pruned.seen.get('layers.0.self_attn.q_proj')!)).toEqual(Array.from(dense.seen.get('layers.0.self_attn.q_proj')!));
    // With every block-0 weight zero, block 0 passes its input through unchanged,
    // so block 1's q_proj input is the RMS-normalized embedding, unlike the dense run.
    expect(Array.from(pruned.seen.get('layers.1.self_attn.q_proj')!)).not.toEqual(Array.from(dense.seen.get('layers.1.self_attn.q_proj')!));
    expect(Array.from(pruned.seen.get('layers.1.self_attn.q_proj')!)).toEqual(Array.from(pruned.seen.get('layers.0.self_attn.q_proj')!).map((value) => expect.closeTo(value, 5)));
  });

  it('without propagation block 1 sees dense outputs', async () => {
    // Block 0 is pruned differently in the two runs, yet block 1 gets the same dense inputs.
    const zeroed = spy(true);
    const wanda = spy(false);
    await prune(zeroed.pruner, { propagateError: false });
    await prune(wanda.pruner, { propagateError: false });
    const expected = wanda.seen.get('layers.1.self_attn.q_proj')!;
    Array.from(zeroed.seen.get('layers.1.self_attn.q_proj')!).forEach((value, i) => expect(value).toBeCloseTo(expected[i], 5));
  });
});
