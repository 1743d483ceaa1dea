/**
 * `runPrune` with a device on the real stories260K model: SparseGPT's saved
 * weights match the float64 host run (no device) in mask and within 1e-4.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Registry } from '@sculpt/core';
import { loadTokenizerForModel, writeCalibrationFile } from '@sculpt/datasets';
import { disposeDevices, loadModel, type DeviceRequest } from '@sculpt/runtime-gpu';
import { plugins } from '../src/plugins.js';
import { runPrune } from '../src/run/prune-run.js';
import { deviceKinds, expectSamePrunedWeights, linearWeights, modelPath, requireAdapter } from './stories260k.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sculpt-prune-device-'));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await disposeDevices();
});

/** Writes four random 32-token windows as a calibration file for the model's tokenizer. */
async function writeRandomCalibration(): Promise<string> {
  const tokenizer = await loadTokenizerForModel(modelPath);
  const random = new Random(4);
  const samples = Array.from({ length: 4 }, () => Int32Array.from({ length: 32 }, () => random.int(3, tokenizer.vocabSize - 1)));
  const file = path.join(dir, 'calibration.json');
  const provenance = samples.map(() => ({ dataset: 'random', split: 'train' as const, records: [], offset: 0 }));
  await writeCalibrationFile(file, { seqlen: 32, samples, provenance, padId: tokenizer.padId ?? 0, padding: 'right', format: 'window' }, tokenizer.identity, { source: 'random token ids' });
  return file;
}

async function prune(calibrationTokens: string, device: DeviceRequest | undefined, name: string) {
  const out = path.join(dir, `${name}.bin`);
  const report = await runPrune({
    registry: new Registry({ manifests: [], entries: plugins }),
    modelPath,
    method: 'sparsegpt',
    sparsity: 0.5,
    calibrationTokens,
    nsamples: 4,
    seqlen: 32,
    seed: 0,
    out,
    device,
    // The host run is the float64 reference the float32 device statistics are held to.
    hessianPrecision: device === undefined ? 'float64' : undefined,
  });
  const model = await loadModel(out);
  try {
    return { report, weights: await linearWeights(model) };
  } finally {
    await model.close();
  }
}

describe('runPrune device', () => {
  it.each(deviceKinds)('sparsegpt on %s matches host', async (kind) => {
    requireAdapter(kind);
    const calibration = await writeRandomCalibration();
    const host = await prune(calibration, undefined, `host-${kind}`);
    const onDevice = await prune(calibration, kind, kind);

    expectSamePrunedWeights(onDevice.weights, host.weights);
    expect(onDevice.report.actualSparsity).toBe(host.report.actualSparsity);
  });
});
