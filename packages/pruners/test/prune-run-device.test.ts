/**
 * `runPrune` with a device on the real stories260K model: SparseGPT's saved
 * weights match the float64 host run (no device) in mask and within 1e-4.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Registry } from '@sculpt/core';
import { loadTokenizerForModel, writeCalibrationFile } from '@sculpt/datasets';
import { disposeDevices, loadModel, probeWebGpuAdapter, type DeviceRequest } from '@sculpt/runtime-gpu';
import { plugins } from '../src/plugins.js';
import { runPrune } from '../src/run/prune-run.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const modelPath = path.resolve(repoRoot, '../shared/data/models/stories260K/stories260K.bin');
const dir = mkdtempSync(path.join(tmpdir(), 'sculpt-prune-device-'));
const probe = await probeWebGpuAdapter();
const requests: DeviceRequest[] = probe.adapter !== null || process.env.CI ? ['cpu', 'webgpu'] : ['cpu'];

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
  });
  const model = await loadModel(out);
  try {
    const weights: Float32Array[] = [];
    for (let b = 0; b < model.config.nLayers; b++) {
      for (const layer of (await model.block(b)).linearLayers()) weights.push(Float32Array.from(layer.getWeight()));
    }
    return { report, weights };
  } finally {
    await model.close();
  }
}

describe('runPrune device', () => {
  it.each(requests)('sparsegpt on %s matches host', async (request) => {
    if (request === 'webgpu' && probe.adapter === null) {
      throw new Error(`CI is set but no WebGPU adapter was found (${probe.reason}); install mesa-vulkan-drivers and libvulkan1`);
    }
    const calibration = await writeRandomCalibration();
    const host = await prune(calibration, undefined, `host-${request}`);
    const onDevice = await prune(calibration, request, request);

    expect(onDevice.weights).toHaveLength(host.weights.length);
    for (let i = 0; i < host.weights.length; i++) {
      const expected = host.weights[i];
      const actual = onDevice.weights[i];
      let mismatches = 0;
      let difference = 0;
      let scale = 0;
      for (let j = 0; j < expected.length; j++) {
        if ((expected[j] === 0) !== (actual[j] === 0)) mismatches++;
        difference = Math.max(difference, Math.abs(actual[j] - expected[j]));
        scale = Math.max(scale, Math.abs(expected[j]));
      }
      expect(mismatches, `mask mismatches in linear layer ${i}`).toBe(0);
      expect(difference / scale, `relative weight error in linear layer ${i}`).toBeLessThan(1e-4);
    }
    expect(onDevice.report.actualSparsity).toBe(host.report.actualSparsity);
  });
});
