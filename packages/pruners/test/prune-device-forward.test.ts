/**
 * The pruning loop with the model's blocks on a device, on the real
 * stories260K model. Every block pass (statistics and pruned re-run) runs on
 * the device, as the executor's counter shows. The masks, weights and
 * reconstruction errors match the host path with float64 statistics.
 *
 * The webgpu cases run on any adapter, lavapipe included. Without one they
 * are skipped, except when CI is set: then they fail.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '@sculpt/core';
import { disposeDevices, getDevice, loadModel, type DeviceKind } from '@sculpt/runtime-gpu';
import { createSparseGptPruner } from '../src/methods/sparsegpt.js';
import { createWandaPruner } from '../src/methods/wanda.js';
import type { CalibrationSequence } from '../src/pipeline/model.js';
import { pruneModel, type PruneReport } from '../src/pipeline/prune-model.js';
import type { Pruner } from '../src/types.js';
import { deviceKinds, expectSamePrunedWeights, linearWeights, modelPath, requireAdapter } from './stories260k.js';

afterAll(async () => {
  await disposeDevices();
});

async function deviceOf(kind: DeviceKind) {
  requireAdapter(kind);
  return getDevice(kind);
}

/** Four random 24-token sequences; with `padded`, the last one ends in 6 padding positions (mask 0). */
function calibrationSequences(vocabSize: number, padded: boolean): CalibrationSequence[] {
  const random = new Random(21);
  return Array.from({ length: 4 }, (_, s) => {
    const tokens = Int32Array.from({ length: 24 }, () => random.int(3, vocabSize - 1));
    const mask = Uint8Array.from({ length: 24 }, (_, t) => (padded && s === 3 && t >= 18 ? 0 : 1));
    return { tokens, mask };
  });
}

interface Run {
  report: PruneReport;
  weights: Float32Array[];
  deviceBlockRuns: number;
  blockCount: number;
}

async function prune(pruner: Pruner, kind: DeviceKind | undefined, trueSequential: boolean, padded: boolean, propagateError: boolean): Promise<Run> {
  const model = await loadModel(modelPath);
  try {
    const device = kind === undefined ? undefined : await deviceOf(kind);
    if (device !== undefined) model.useDevice(device);
    const report = await pruneModel(model, {
      pruner,
      sparsity: 0.5,
      sequences: calibrationSequences(model.config.vocabSize, padded),
      mode: 'clean',
      trueSequential,
      propagateError,
      device,
      // The host run is the float64 reference the float32 device statistics are held to.
      hessianPrecision: 'float64',
    });
    const weights = await linearWeights(model);
    return { report, weights, deviceBlockRuns: model.deviceBlockRuns, blockCount: model.config.nLayers };
  } finally {
    await model.close();
  }
}

/**
 * Padding query rows differ by design: the host attention lets a padding
 * position attend to itself, the device attention only to real keys. Clean
 * mode keeps those rows out of the statistics, so masks still agree. The
 * reconstruction error counts every row, so it is compared only without padding.
 */
const cases: { name: string; pruner: () => Pruner; trueSequential: boolean; padded: boolean; propagateError: boolean; passesPerBlock: number }[] = [
  { name: 'wanda', pruner: () => createWandaPruner(), trueSequential: false, padded: false, propagateError: true, passesPerBlock: 2 },
  { name: 'sparsegpt', pruner: () => createSparseGptPruner(), trueSequential: false, padded: false, propagateError: true, passesPerBlock: 2 },
  { name: 'sparsegpt dense inputs', pruner: () => createSparseGptPruner(), trueSequential: false, padded: false, propagateError: false, passesPerBlock: 2 },
  { name: 'wanda padded', pruner: () => createWandaPruner(), trueSequential: false, padded: true, propagateError: true, passesPerBlock: 2 },
  // Llama's four groups (q,k,v → o → gate,up → down): four statistics passes and the re-run.
  { name: 'sparsegpt true-sequential padded', pruner: () => createSparseGptPruner(), trueSequential: true, padded: true, propagateError: true, passesPerBlock: 5 },
];

// The host run is the reference of every device, so each case runs it once.
const hostRuns = new Map<string, Promise<Run>>();

describe.each(deviceKinds)('device forward passes on %s', (kind) => {
  it.each(cases)('$name matches host path', async ({ name, pruner, trueSequential, padded, propagateError, passesPerBlock }) => {
    if (!hostRuns.has(name)) hostRuns.set(name, prune(pruner(), undefined, trueSequential, padded, propagateError));
    const host = await hostRuns.get(name)!;
    const onDevice = await prune(pruner(), kind, trueSequential, padded, propagateError);

    expect(host.deviceBlockRuns).toBe(0);
    expect(onDevice.deviceBlockRuns).toBe(onDevice.blockCount * 4 * passesPerBlock);

    expectSamePrunedWeights(onDevice.weights, host.weights);

    expect(onDevice.report.actualSparsity).toBe(host.report.actualSparsity);
    for (let i = 0; i < host.report.layers.length; i++) {
      const expected = host.report.layers[i];
      const actual = onDevice.report.layers[i];
      expect(actual.name).toBe(expected.name);
      expect(actual.relativeError, `relative error of ${expected.name}`).toBeGreaterThan(0);
      expect(actual.relativeError, `relative error of ${expected.name}`).toBeLessThan(1);
      if (padded) continue;
      expect(Math.abs(actual.relativeError - expected.relativeError) / expected.relativeError, `relative error of ${expected.name}`).toBeLessThan(1e-3);
    }
  });
});
