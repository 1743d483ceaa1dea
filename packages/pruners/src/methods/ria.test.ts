import { describe, expect, it } from 'vitest';
import { parseNMPattern } from '../algorithms/selectors.js';
import { pruneModel } from '../pipeline/prune-model.js';
import type { LayerToPrune, Pruner } from '../types.js';
import { randomSequences, TinyMlpModel } from '../../test/tiny-model.js';
import { createRiaPruner } from './ria.js';

const defaults = { exponent: 0.5, perOutputRow: false, reconstruction: false, reallocationRounds: 32, reallocationWindow: 256 };

/** Wraps a pruner and keeps every layer's input weight and returned mask. */
function recording(inner: Pruner): { pruner: Pruner; layers: { offered: LayerToPrune; mask: Uint8Array }[] } {
  const layers: { offered: LayerToPrune; mask: Uint8Array }[] = [];
  return {
    layers,
    pruner: {
      statistics: inner.statistics,
      supportsPattern: inner.supportsPattern,
      async pruneLayer(layer, context) {
        const offered = { ...layer, weight: { ...layer.weight, data: layer.weight.data.slice() } };
        const result = await inner.pruneLayer(layer, context);
        layers.push({ offered, mask: result.mask.data.slice() });
        return result;
      },
    },
  };
}

describe('RIA pruner with N:M', () => {
  const sequences = randomSequences(4, 6, 32);
  const pattern = parseNMPattern('2:4');

  it('keeps consecutive groups without reallocation', async () => {
    const report = await pruneModel(new TinyMlpModel(), { pruner: createRiaPruner({ ...defaults, channelReallocation: false }), sparsity: 0.5, pattern, sequences });
    expect(report.actualSparsity).toBe(0.5);
    for (const layer of report.layers) expect(layer.details).toBeUndefined();
  });

  it('retains more score with reallocation', async () => {
    const plain = recording(createRiaPruner({ ...defaults, channelReallocation: false }));
    const reallocated = recording(createRiaPruner({ ...defaults, channelReallocation: true }));
    const plainReport = await pruneModel(new TinyMlpModel(), { pruner: plain.pruner, sparsity: 0.5, pattern, sequences });
    const report = await pruneModel(new TinyMlpModel(), { pruner: reallocated.pruner, sparsity: 0.5, pattern, sequences });

    expect(report.actualSparsity).toBe(0.5);
    let gained = 0;
    for (const layer of report.layers) {
      const original = Number(layer.details?.retainedScoreOriginal);
      const final = Number(layer.details?.retainedScoreReallocated);
      expect(final).toBeGreaterThanOrEqual(original);
      if (final > original) gained++;
    }
    expect(gained).toBeGreaterThan(0);

    // The first layer receives the same dense inputs in both runs, so its plain mask is the one RIA would pick without reallocation.
    const first = report.layers[0];
    expect(plainReport.layers[0].name).toBe(first.name);
    expect(reallocated.layers[0].offered.weight.data).toEqual(plain.layers[0].offered.weight.data);
    expect(reallocated.layers[0].mask.reduce((sum, bit) => sum + bit, 0)).toBe(plain.layers[0].mask.reduce((sum, bit) => sum + bit, 0));
  });

  it('reconstructs on the reallocated mask', async () => {
    const zeroed = recording(createRiaPruner({ ...defaults, channelReallocation: true }));
    const updated = recording(createRiaPruner({ ...defaults, channelReallocation: true, reconstruction: true }));
    const zeroedReport = await pruneModel(new TinyMlpModel(), { pruner: zeroed.pruner, sparsity: 0.5, pattern, sequences });
    const report = await pruneModel(new TinyMlpModel(), { pruner: updated.pruner, sparsity: 0.5, pattern, sequences });

    expect(report.actualSparsity).toBe(0.5);
    // Same dense inputs in the first layer give the same reallocated mask, and the OBS update lowers the error of a fixed mask.
    expect(updated.layers[0].mask).toEqual(zeroed.layers[0].mask);
    expect(report.layers[0].reconstructionError).toBeLessThanOrEqual(zeroedReport.layers[0].reconstructionError);
    expect(report.layers[0].details?.retainedScoreReallocated).toBe(zeroedReport.layers[0].details?.retainedScoreReallocated);
  });
});
