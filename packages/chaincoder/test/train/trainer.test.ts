/**
 * End to end on generated problems: tokenize, build vocabularies from the
 * training split, and train a small ChainCoder on the cpu device.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { getCpuDevice } from '@sculpt/runtime-gpu';
import { ChainCoderModel } from '../../src/model/index.js';
import { MINIATURE_CURRICULUM, Trainer } from '../../src/train/index.js';
import { prepareTinyProblems, tinyConfig } from '../fixtures/tiny-model.js';

describe('Trainer', () => {
  const disposables: { dispose(): void }[] = [];
  afterAll(() => {
    for (const item of disposables) item.dispose();
  });

  it('lowers the training loss on generated problems', async () => {
    const fractions = { validation: 0.2, test: 0.2 };
    const { train, validation, vocabularies } = await prepareTinyProblems({ count: 30, seed: 2, examples: 2, tests: 3, fractions, includeHiddenTests: true, maxTargetLength: 400 });
    expect(train.length).toBeGreaterThan(10);
    expect(validation.length).toBeGreaterThan(0);

    const config = tinyConfig(vocabularies, { dim: 32, hiddenDim: 64 });
    const model = new ChainCoderModel(getCpuDevice(), config, 1);
    disposables.push(model);
    const trainer = new Trainer(model, train, vocabularies, {
      steps: 16,
      batchSize: 3,
      seed: 3,
      schedule: { peakLr: 1e-2, warmupSteps: 2, initialLr: 1e-7 },
      curriculum: MINIATURE_CURRICULUM,
      maxGradNorm: 0.5,
    });
    disposables.push(trainer);

    const before = await trainer.validationLoss(validation);
    const records = await trainer.run();
    const after = await trainer.validationLoss(validation);

    expect(records).toHaveLength(16);
    const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    const first = mean(records.slice(0, 4).map((record) => record.loss));
    const last = mean(records.slice(-4).map((record) => record.loss));
    expect(last).toBeLessThan(first * 0.8);
    expect(after).toBeLessThan(before);
    expect(new Set(records.map((record) => record.epoch)).size).toBeGreaterThan(1);
  }, 300_000);
});
