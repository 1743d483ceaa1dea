/**
 * The ChainCoder model on the cpu device: a training step lowers the loss on
 * a fixed batch, padding does not change the loss, and both description
 * poolings size their parameters as saved checkpoints expect.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '@sculpt/core';
import { AdamW, getCpuDevice, recordTape } from '@sculpt/runtime-gpu';
import { ChainCoderModel, IGNORE_LABEL, teacherForcingLabels, type ChainCoderConfig, type ModelBatch } from '../../src/model/index.js';
import { tinyConfig } from '../fixtures/tiny-model.js';

const config = tinyConfig(
  { inputVocab: 20, outputVocab: 24, descriptionVocab: 30 },
  { maxSamples: 4, maxDescriptionLength: 8, maxIoLength: 8, maxTargetLength: 10 },
);

/** Two instances (3 and 2 samples), three programs; padded slots hold `padId`. */
function fixedBatch(padId: number): ModelBatch {
  const random = new Random(4);
  const I = 2;
  const S = 3;
  const T = 5;
  const sampleCounts = [3, 2];
  const ioLengths = [5, 3];
  const ioIds: number[] = [];
  for (let i = 0; i < I; i++) {
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < 2; c++) {
        for (let s = 0; s < S; s++) ioIds.push(s < sampleCounts[i] && t < ioLengths[i] ? random.int(1, 19) : padId);
      }
    }
  }
  const Ld = 6;
  const descriptionLengths = [6, 4];
  const descriptionIds = Array.from({ length: I * Ld }, (_, index) => (index % Ld < descriptionLengths[Math.floor(index / Ld)] ? random.int(1, 29) : padId));
  const Lt = 9;
  const targetLengths = [9, 6, 7];
  const targets = Array.from({ length: 3 * Lt }, (_, index) => (index % Lt < targetLengths[Math.floor(index / Lt)] ? random.int(1, 23) : padId));
  return {
    instances: I,
    samples: S,
    ioLength: T,
    ioIds,
    sampleCounts,
    ioLengths,
    descriptionLength: Ld,
    descriptionIds,
    descriptionLengths,
    programInstance: [0, 1, 1],
    targetLength: Lt,
    targets,
    targetLengths,
  };
}

describe('ChainCoderModel', () => {
  const device = getCpuDevice();
  const models: ChainCoderModel[] = [];
  afterAll(() => {
    for (const model of models) model.dispose();
  });

  it('labels only real target tokens', () => {
    const batch = fixedBatch(0);
    const labels = teacherForcingLabels(batch);
    expect(labels).toHaveLength(3 * 8);
    expect(labels.slice(0, 8)).toEqual(batch.targets.slice(1, 9));
    expect(labels.slice(8, 16)).toEqual([...batch.targets.slice(10, 15), IGNORE_LABEL, IGNORE_LABEL, IGNORE_LABEL]);
  });

  it('ignores padded slots', async () => {
    const model = new ChainCoderModel(device, config, 3);
    models.push(model);
    const first = model.loss(fixedBatch(0));
    const second = model.loss(fixedBatch(7));
    const [a] = await first.read();
    const [b] = await second.read();
    first.dispose();
    second.dispose();
    model.releaseBatchTensors();
    expect(Number.isFinite(a)).toBe(true);
    expect(Math.abs(a - b)).toBeLessThan(1e-5);
  });

  it.each(['first-last-mean', 'first-last-max-min'] as const)('encoder ignores padding with %s pooling', async (descriptionPooling) => {
    const model = new ChainCoderModel(device, { ...config, descriptionPooling }, 3);
    models.push(model);
    const batches = [fixedBatch(0), fixedBatch(7)];
    const [a, b] = await Promise.all(batches.map(async (batch) => {
      const encoded = model.encode(batch);
      const values = (await encoded.read()) as Float32Array;
      encoded.dispose();
      model.releaseBatchTensors();
      return values;
    }));
    // Only the rows the decoder attends to must agree: the description vectors and the real I/O rows.
    const { ioLength, ioLengths } = batches[0];
    const M = model.descriptionVectors + ioLength;
    let worst = 0;
    ioLengths.forEach((length, instance) => {
      for (let row = instance * M; row < instance * M + model.descriptionVectors + length; row++) {
        for (let column = 0; column < config.dim; column++) worst = Math.max(worst, Math.abs(a[row * config.dim + column] - b[row * config.dim + column]));
      }
    });
    expect(worst).toBeLessThan(1e-5);
  });

  it('sizes description parameters by pooling', () => {
    const shapes = (model: ChainCoderModel): Map<string, readonly number[]> => new Map(model.parameters().map(([name, tensor]) => [name, tensor.shape]));
    // A config saved without descriptionPooling keeps the three first/last/mean vectors.
    const legacy = new ChainCoderModel(device, config, 1);
    const current = new ChainCoderModel(device, { ...config, descriptionPooling: 'first-last-max-min' }, 1);
    models.push(legacy, current);
    expect(legacy.descriptionVectors).toBe(3);
    expect(shapes(legacy).get('description_marker.weight')).toEqual([3, 16]);
    expect(shapes(legacy).get('encoder_position.weight')).toEqual([3 + 8, 16]);
    expect(current.descriptionVectors).toBe(4);
    expect(shapes(current).get('description_marker.weight')).toEqual([4, 16]);
    expect(shapes(current).get('encoder_position.weight')).toEqual([4 + 8, 16]);
    expect([...shapes(current).keys()]).toEqual([...shapes(legacy).keys()]);
  });

  it('rejects an unknown pooling', () => {
    const invalid = { ...config, descriptionPooling: 'mean' } as unknown as ChainCoderConfig;
    expect(() => new ChainCoderModel(device, invalid, 1)).toThrow(/descriptionPooling must be one of first-last-mean, first-last-max-min, got "mean"/u);
  });

  it('rejects f16 activations on cpu', () => {
    const model = new ChainCoderModel(device, config, 1);
    models.push(model);
    expect(() => model.setActivationDType('f16')).toThrow(/f16 activations need a webgpu device with the shader-f16 feature; the cpu device/u);
    expect(model.activationDType).toBe('f32');
  });

  it.each(['first-last-mean', 'first-last-max-min'] as const)('lowers the loss when trained with %s pooling', async (descriptionPooling) => {
    const model = new ChainCoderModel(device, { ...config, descriptionPooling }, 5);
    models.push(model);
    const optimizer = new AdamW(
      model.parameters().map(([, tensor]) => tensor),
      { lr: 1e-2, weightDecay: 0, maxGradNorm: 0.5 },
    );
    const batch = fixedBatch(0);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const { tape, result: loss } = recordTape(() => model.loss(batch));
      tape.backward(loss);
      model.releaseBatchTensors();
      await optimizer.update();
      optimizer.zeroGrad();
      losses.push((await loss.read())[0]);
      loss.dispose();
    }
    optimizer.dispose();
    // Uniform guessing over 24 tokens costs ln 24 ≈ 3.18 nats.
    expect(losses[0]).toBeGreaterThan(2.5);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
  });
});
