/**
 * f16 activations on the webgpu device (lavapipe here): a few updates lower
 * the loss and stay close to the same run with f32 activations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeDevices, getDevice, probeWebGpuAdapter, type Device } from '@sculpt/runtime-gpu';
import { ChainCoderModel, type ChainCoderConfig, type CodeVocabularies, type PreparedProblem } from '../../src/model/index.js';
import { Trainer, type StepRecord } from '../../src/train/index.js';
import { prepareTinyProblems, tinyConfig } from '../fixtures/tiny-model.js';

const probe = await probeWebGpuAdapter();
const STEPS = 8;

describe.skipIf(probe.adapter === null && !process.env.CI)('f16 activations on webgpu', () => {
  let device: Device;
  let train: PreparedProblem[];
  let vocabularies: CodeVocabularies;
  let config: ChainCoderConfig;

  beforeAll(async () => {
    if (probe.adapter === null) throw new Error(`CI is set but no WebGPU adapter was found (${probe.reason}); install mesa-vulkan-drivers and libvulkan1`);
    device = await getDevice('webgpu');
    ({ train, vocabularies } = await prepareTinyProblems({ count: 8, seed: 21, examples: 2, tests: 1, includeHiddenTests: true, maxTargetLength: 200 }));
    config = tinyConfig(vocabularies, {
      decoderLayers: 1,
      maxSamples: 4,
      maxDescriptionLength: 32,
      maxIoLength: 64,
      maxTargetLength: 200,
      descriptionPooling: 'first-last-max-min',
    });
  });

  afterAll(async () => {
    await disposeDevices();
  });

  async function trainWith(activations: 'f32' | 'f16'): Promise<StepRecord[]> {
    const model = new ChainCoderModel(device, config, 1);
    // A constant curriculum of 2 samples and 1 program keeps every step the same size.
    const trainer = new Trainer(model, train.slice(0, 4), vocabularies, {
      steps: STEPS,
      batchSize: 4,
      activations,
      seed: 3,
      schedule: { peakLr: 1e-2, warmupSteps: 1, initialLr: 1e-7 },
      curriculum: { ioSamples: { amplitude: 2, period: 1000, choices: [2] }, programs: { amplitude: 1, period: 1000, choices: [1] } },
      maxGradNorm: 0.5,
    });
    try {
      return await trainer.run();
    } finally {
      trainer.dispose();
      model.dispose();
    }
  }

  it('lowers the loss and tracks f32', async () => {
    if (!device.supportsDType('f16')) {
      const model = new ChainCoderModel(device, config, 1);
      expect(() => model.setActivationDType('f16')).toThrow(/shader-f16/u);
      model.dispose();
      return;
    }
    const half = await trainWith('f16');
    const full = await trainWith('f32');
    const halfLosses = half.map((record) => record.loss);
    const fullLosses = full.map((record) => record.loss);
    expect(halfLosses.every(Number.isFinite)).toBe(true);
    expect(halfLosses.at(-1)!).toBeLessThan(halfLosses[0] * 0.9);
    for (let step = 0; step < STEPS; step++) {
      // f16 keeps 11 significant bits, so per-step losses drift apart slowly.
      expect(Math.abs(halfLosses[step] - fullLosses[step]), `step ${step}: f16 ${halfLosses[step]}, f32 ${fullLosses[step]}`).toBeLessThan(0.02 * fullLosses[step]);
    }
  }, 300_000);
});
