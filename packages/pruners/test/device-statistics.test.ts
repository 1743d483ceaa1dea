/**
 * The runtime-device statistics and inverse-Hessian factor against the
 * float64 host path: the statistics agree to float32 rounding, and pruning a
 * tiny two-block model gives the same masks and weights within 1e-4.
 *
 * The webgpu cases run on any adapter, lavapipe included. Without one they
 * are skipped, except when CI is set: then they fail.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { disposeDevices, getDevice, probeWebGpuAdapter, type DeviceKind } from '@sculpt/runtime-gpu';
import { Random } from '@sculpt/core';
import { createSparseGptPruner } from '../src/methods/sparsegpt.js';
import { createWandaPruner } from '../src/methods/wanda.js';
import { parseNMPattern } from '../src/algorithms/selectors.js';
import { pruneModel } from '../src/pipeline/prune-model.js';
import { LayerCollector } from '../src/pipeline/statistics.js';
import type { Pruner } from '../src/types.js';
import type { NMPattern } from '../src/algorithms/selectors.js';
import { randomSequences, TinyMlpModel } from './tiny-model.js';

const probe = await probeWebGpuAdapter();
const kinds: DeviceKind[] = probe.adapter !== null || process.env.CI ? ['cpu', 'webgpu'] : ['cpu'];

/** Returns the device, failing with the probe's reason when CI expects an adapter that is missing. */
async function deviceOf(kind: DeviceKind) {
  if (kind === 'webgpu' && probe.adapter === null) {
    throw new Error(`CI is set but no WebGPU adapter was found (${probe.reason}); install mesa-vulkan-drivers and libvulkan1`);
  }
  return getDevice(kind);
}

afterAll(async () => {
  await disposeDevices();
});

/** max |a − b| / max |b|, the relative error of a whole matrix. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    difference = Math.max(difference, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? difference : difference / scale;
}

async function prunedWeights(pruner: Pruner, device: DeviceKind | undefined, pattern?: NMPattern) {
  const model = new TinyMlpModel({ dim: 16, hidden: 32, seed: 3 });
  const sequences = randomSequences(6, 12, model.vocab, 11);
  const report = await pruneModel(model, {
    pruner,
    sparsity: 0.5,
    pattern,
    sequences,
    device: device === undefined ? undefined : await deviceOf(device),
  });
  return { report, blocks: model.blocks.map((layers) => layers.map((layer) => Float32Array.from(layer.weight))) };
}

describe.each(kinds)('device statistics on %s', (kind) => {
  it('collector matches float64 reference', async () => {
    const device = await deviceOf(kind);
    const random = new Random(5);
    const features = 24;
    const host = new LayerCollector(features, ['rowScaler', 'hessian']);
    const onDevice = new LayerCollector(features, ['rowScaler', 'hessian'], { device });
    const lengths = [7, 5, 9];
    for (const [s, rows] of lengths.entries()) {
      const input = Float32Array.from({ length: rows * features }, () => random.normal());
      // The second sequence is fully padded (clean mode), so it only decays the running means.
      const tokenMask = s === 1 ? new Uint8Array(rows) : Uint8Array.from({ length: rows }, (_, t) => (t < rows - 2 ? 1 : 0));
      await host.add(input, rows, features, tokenMask);
      await onDevice.add(input, rows, features, tokenMask);
    }
    await onDevice.finish();

    const expected = host.result();
    const actual = onDevice.result();
    expect(actual.sequences).toBe(3);
    expect(actual.tokens).toBe(expected.tokens);
    expect(relativeError(actual.rowScaler!, expected.rowScaler!)).toBeLessThan(1e-6);
    expect(relativeError(actual.hessian!, expected.hessian!)).toBeLessThan(1e-6);
  });

  const cases: { name: string; pruner: () => Pruner; pattern?: NMPattern }[] = [
    { name: 'wanda', pruner: () => createWandaPruner() },
    { name: 'sparsegpt', pruner: () => createSparseGptPruner() },
    { name: 'sparsegpt 2:4', pruner: () => createSparseGptPruner(), pattern: parseNMPattern('2:4') },
  ];

  it.each(cases)('$name prune matches host path', async ({ pruner, pattern }) => {
    const reference = await prunedWeights(pruner(), undefined, pattern);
    const actual = await prunedWeights(pruner(), kind, pattern);

    for (let b = 0; b < reference.blocks.length; b++) {
      for (let l = 0; l < reference.blocks[b].length; l++) {
        const expected = reference.blocks[b][l];
        const weight = actual.blocks[b][l];
        // Masks must be identical. A near-tie flipped by float32 rounding would fail here; these seeds produce none.
        const expectedMask = Array.from(expected, (value) => (value === 0 ? 1 : 0));
        const actualMask = Array.from(weight, (value) => (value === 0 ? 1 : 0));
        expect(actualMask, `mask of block ${b} layer ${l}`).toEqual(expectedMask);
        expect(relativeError(weight, expected), `weight of block ${b} layer ${l}`).toBeLessThan(1e-4);
      }
    }
    expect(actual.report.actualSparsity).toBe(reference.report.actualSparsity);
  });
});
