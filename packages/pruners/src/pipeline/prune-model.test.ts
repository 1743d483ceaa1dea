import { describe, expect, it, vi } from 'vitest';
import { createMagnitudePruner } from '../methods/magnitude.js';
import { createOwlPruner } from '../methods/owl.js';
import { createSparseGptPruner } from '../methods/sparsegpt.js';
import { createWandaPruner } from '../methods/wanda.js';
import { parseNMPattern } from '../algorithms/selectors.js';
import type { LayerToPrune, Pruner } from '../types.js';
import { pruneModel } from './prune-model.js';
import { HessianAccumulator } from '../algorithms/collectors.js';
import { PassCollectors } from './statistics.js';
import { randomSequences, TinyMlpModel } from '../../test/tiny-model.js';

/** Wraps a pruner and records what each layer was offered. */
function recording(inner: Pruner): { pruner: Pruner; seen: LayerToPrune[] } {
  const seen: LayerToPrune[] = [];
  return {
    seen,
    pruner: {
      statistics: inner.statistics,
      supportsPattern: inner.supportsPattern,
      schedule: inner.schedule,
      pruneLayer(layer, context) {
        seen.push({ ...layer, statistics: { ...layer.statistics, rowScaler: layer.statistics.rowScaler?.slice() } });
        return inner.pruneLayer(layer, context);
      },
    },
  };
}

/** Prunes everything in block 0's down layer and uses Wanda elsewhere. */
function killBlockZeroDown(): Pruner {
  const wanda = createWandaPruner();
  return {
    statistics: ['rowScaler'],
    supportsPattern: false,
    pruneLayer(layer, context) {
      if (layer.name === 'layers.0.down') {
        const mask = { rows: layer.weight.rows, cols: layer.weight.cols, data: new Uint8Array(layer.weight.data.length).fill(1) };
        return { weight: { ...layer.weight, data: new Float64Array(layer.weight.data.length) }, mask };
      }
      return wanda.pruneLayer(layer, context);
    },
  };
}

describe('pruneModel', () => {
  const sequences = randomSequences(4, 6, 32);

  it('Wanda reaches exactly the requested sparsity', async () => {
    const model = new TinyMlpModel();
    const report = await pruneModel(model, { pruner: createWandaPruner(), sparsity: 0.5, sequences });
    expect(report.actualSparsity).toBe(0.5);
    expect(report.layers).toHaveLength(6);
    for (const layer of report.layers) {
      expect(layer.sparsity).toBe(0.5);
      expect(layer.reconstructionError).toBeGreaterThan(0);
      expect(layer.relativeError).toBeLessThan(1);
    }
  });

  it('SparseGPT and magnitude land slightly above', async () => {
    const sparse = await pruneModel(new TinyMlpModel(), { pruner: createSparseGptPruner(), sparsity: 0.5, sequences });
    const magnitude = await pruneModel(new TinyMlpModel(), { pruner: createMagnitudePruner(), sparsity: 0.5, sequences: [] });
    for (const report of [sparse, magnitude]) {
      expect(report.actualSparsity).toBeGreaterThan(0.5);
      expect(report.actualSparsity).toBeLessThan(0.52);
    }
  });

  it('2:4 gives exactly half and rejects other sparsities', async () => {
    const report = await pruneModel(new TinyMlpModel(), { pruner: createSparseGptPruner(), sparsity: 0.5, pattern: parseNMPattern('2:4'), sequences });
    expect(report.actualSparsity).toBe(0.5);
    await expect(pruneModel(new TinyMlpModel(), { pruner: createWandaPruner(), sparsity: 0.6, pattern: parseNMPattern('2:4'), sequences })).rejects.toThrow(/fixes the sparsity at 0.5/);
  });

  it('next block sees pruned outputs', async () => {
    const propagated = recording(killBlockZeroDown());
    const dense = recording(killBlockZeroDown());
    await pruneModel(new TinyMlpModel(), { pruner: propagated.pruner, sparsity: 0.5, sequences });
    await pruneModel(new TinyMlpModel(), { pruner: dense.pruner, sparsity: 0.5, sequences, propagateError: false });

    // With block 0's MLP output zeroed, block 1's input is the bare embedding.
    const model = new TinyMlpModel();
    let expected = new Float64Array(8);
    for (const sequence of sequences) {
      const x = model.embed(sequence.tokens);
      for (let i = 0; i < 8; i++) {
        let sum = 0;
        for (let t = 0; t < 6; t++) sum += x[t * 8 + i] ** 2;
        expected[i] += sum / sequences.length;
      }
    }
    const gateOne = propagated.seen.find((layer) => layer.name === 'layers.1.gate')!;
    const denseGateOne = dense.seen.find((layer) => layer.name === 'layers.1.gate')!;
    Array.from(gateOne.statistics.rowScaler!).forEach((value, i) => expect(value).toBeCloseTo(expected[i], 4));
    expect(Array.from(denseGateOne.statistics.rowScaler!)).not.toEqual(Array.from(gateOne.statistics.rowScaler!));
  });

  it('true sequential feeds down the pruned gate and up', async () => {
    const plain = recording(createWandaPruner());
    const sequential = recording(createWandaPruner());
    await pruneModel(new TinyMlpModel(), { pruner: plain.pruner, sparsity: 0.5, sequences });
    await pruneModel(new TinyMlpModel(), { pruner: sequential.pruner, sparsity: 0.5, sequences, trueSequential: true });
    const gate = (run: typeof plain) => run.seen.find((layer) => layer.name === 'layers.0.gate')!.statistics.rowScaler!;
    const down = (run: typeof plain) => run.seen.find((layer) => layer.name === 'layers.0.down')!.statistics.rowScaler!;
    expect(Array.from(gate(sequential))).toEqual(Array.from(gate(plain)));
    expect(Array.from(down(sequential))).not.toEqual(Array.from(down(plain)));
  });

  it('layers sharing an input share one Hessian, equal to a separate accumulation', async () => {
    const run = recording(createSparseGptPruner());
    await pruneModel(new TinyMlpModel(), { pruner: run.pruner, sparsity: 0.5, sequences, hessianPrecision: 'float64' });
    const hessianOf = (name: string) => run.seen.find((layer) => layer.name === name)!.statistics.hessian!;
    expect(hessianOf('layers.0.up')).toBe(hessianOf('layers.0.gate'));
    expect(hessianOf('layers.0.down')).not.toBe(hessianOf('layers.0.gate'));

    // The shared Hessian is what gate's own accumulation over the same inputs gives.
    const model = new TinyMlpModel();
    const separate = new HessianAccumulator(model.config.dim);
    for (const sequence of sequences) {
      const rows = sequence.tokens.length;
      const hidden = model.embed(sequence.tokens);
      let gateInput: Float32Array | undefined;
      await model.runBlock(0, hidden, rows, [], { onLinearInput: (name, input) => { if (name === 'gate') gateInput = Float32Array.from(input); } });
      await separate.addBatch({ tokens: rows, features: model.config.dim, data: gateInput! });
    }
    hessianOf('layers.0.gate').forEach((value, i) => expect(value).toBeCloseTo(separate.values[i], 10));
  });

  it('clean mode leaves padding out of the statistics', async () => {
    const mask = Uint8Array.from([0, 0, 1, 1, 1, 1]);
    const padded = sequences.map((sequence) => ({ ...sequence, mask }));
    const faithful = recording(createWandaPruner());
    const clean = recording(createWandaPruner());
    await pruneModel(new TinyMlpModel(), { pruner: faithful.pruner, sparsity: 0.5, sequences: padded });
    await pruneModel(new TinyMlpModel(), { pruner: clean.pruner, sparsity: 0.5, sequences: padded, mode: 'clean' });
    expect(faithful.seen[0].statistics.tokens).toBe(24);
    expect(clean.seen[0].statistics.tokens).toBe(16);
  });

  it('OWL keeps the mean block sparsity', async () => {
    const report = await pruneModel(new TinyMlpModel({ blocks: 4 }), { pruner: createOwlPruner({ lambda: 0.08, outlierMultiple: 2 }), sparsity: 0.5, sequences });
    const mean = report.blockSparsities.reduce((a, b) => a + b, 0) / 4;
    expect(mean).toBeCloseTo(0.5, 12);
    expect(Math.max(...report.blockSparsities) - Math.min(...report.blockSparsities)).toBeLessThanOrEqual(0.16 + 1e-12);
    expect(report.schedule).toBe('owl');
  });

  it('explicit schedule and bad inputs', async () => {
    const report = await pruneModel(new TinyMlpModel(), { pruner: createWandaPruner(), sparsity: 0.5, sequences, blockSparsities: [0.25, 0.75] });
    expect(report.layers.filter((layer) => layer.block === 0).every((layer) => layer.sparsity === 0.25)).toBe(true);
    await expect(pruneModel(new TinyMlpModel(), { pruner: createWandaPruner(), sparsity: 0.5, sequences, blockSparsities: [0.5] })).rejects.toThrow(/1 entries but the model has 2 blocks/);
    await expect(pruneModel(new TinyMlpModel(), { pruner: createWandaPruner(), sparsity: 0.5, sequences: [] })).rejects.toThrow(/needs calibration data/);
  });

  it('reconstruction errors match float64', async () => {
    const model = new TinyMlpModel({ dim: 24, hidden: 40 });
    const dense = model.blocks[0].map((layer) => Float64Array.from(layer.weight));
    const inputs = sequences.map((sequence) => model.embed(sequence.tokens));
    const report = await pruneModel(model, { pruner: createWandaPruner(), sparsity: 0.5, sequences });

    // Block 0's linear inputs in the pruned block, from the same embeddings.
    const expected = new Map<string, { error: number; reference: number }>();
    for (const hidden of inputs) {
      await model.runBlock(0, hidden, hidden.length / 24, [], {
        onLinearInput: (name, input, rows) => {
          const index = model.blocks[0].findIndex((layer) => layer.name === name);
          const { outFeatures, inFeatures, weight } = model.blocks[0][index];
          const entry = expected.get(name) ?? { error: 0, reference: 0 };
          for (let t = 0; t < rows; t++) {
            for (let o = 0; o < outFeatures; o++) {
              let delta = 0;
              let full = 0;
              for (let i = 0; i < inFeatures; i++) {
                const x = input[t * inFeatures + i];
                delta += x * (dense[index][o * inFeatures + i] - weight[o * inFeatures + i]);
                full += x * dense[index][o * inFeatures + i];
              }
              entry.error += delta * delta;
              entry.reference += full * full;
            }
          }
          expected.set(name, entry);
        },
      });
    }

    for (const [name, { error, reference }] of expected) {
      const layer = report.layers.find((entry) => entry.name === `layers.0.${name}`)!;
      expect(Math.abs(layer.reconstructionError - error) / error, name).toBeLessThan(1e-5);
      expect(Math.abs(layer.relativeError - error / reference) / (error / reference), name).toBeLessThan(1e-5);
    }
  });
});

describe('PassCollectors', () => {
  it('shares, selects and releases collectors', () => {
    const collectors = new PassCollectors(() => 4, ['rowScaler'], {}, (_, group) => group !== 1);
    const first = new Float32Array(8);
    const second = new Float32Array(8);
    for (let s = 0; s < 2; s++) {
      collectors.startSequence();
      const routed = [
        collectors.route('q', first, s === 0),
        collectors.route('k', first, s === 0),
        collectors.route('o', second, s === 0),
        // The same array as q, but not right after it: a new group, as in a block that reuses a buffer.
        collectors.route('gate', first, s === 0),
      ];
      expect(routed[0]).toBe(collectors.get('q'));
      expect(routed.slice(1, 3)).toEqual([undefined, undefined]);
      expect(routed[3]).toBe(collectors.get('gate'));
    }
    expect(collectors.groups).toEqual([['q', 'k'], ['o'], ['gate']]);
    expect(collectors.get('k')).toBe(collectors.get('q'));
    expect(collectors.get('gate')).not.toBe(collectors.get('q'));
    expect(collectors.get('o')).toBeUndefined();

    const shared = collectors.get('q')!;
    const dispose = vi.spyOn(shared, 'dispose');
    collectors.release('q');
    expect(dispose).not.toHaveBeenCalled();
    collectors.release('k');
    expect(dispose).toHaveBeenCalledOnce();
    expect(collectors.names()).toEqual(['gate']);
  });

  it('gives every layer an empty collector when no sequence ran', () => {
    const collectors = new PassCollectors(() => 4, [], {});
    collectors.coverUnseen(['gate', 'up', 'down']);
    expect(collectors.groups).toEqual([['gate', 'up', 'down']]);
    expect(collectors.get('up')!.result().sequences).toBe(0);
  });
});
