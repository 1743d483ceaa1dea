/**
 * Gradient accumulation on the cpu device: two micro-batches of 4 must give
 * the gradient and loss of one batch of 8 with the same drawn examples.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCpuDevice } from '@sculpt/runtime-gpu';
import { ChainCoderModel, type ChainCoderConfig, type CodeVocabularies, type PreparedProblem } from '../../src/model/index.js';
import { MINIATURE_CURRICULUM, Trainer } from '../../src/train/index.js';
import { prepareTinyProblems, tinyConfig } from '../fixtures/tiny-model.js';

describe('gradient accumulation', () => {
  let train: PreparedProblem[];
  let vocabularies: CodeVocabularies;
  let config: ChainCoderConfig;
  const disposables: { dispose(): void }[] = [];

  beforeAll(async () => {
    ({ train, vocabularies } = await prepareTinyProblems({ count: 20, seed: 11, examples: 2, tests: 2, includeHiddenTests: true, maxTargetLength: 400 }));
    config = tinyConfig(vocabularies, {
      decoderLayers: 1,
      maxDescriptionLength: 48,
      maxIoLength: 96,
      descriptionPooling: 'first-last-max-min',
    });
  });

  afterAll(() => {
    for (const item of disposables) item.dispose();
  });

  function trainerFor(batchSize: number, accumulate: number, steps = 1): Trainer {
    const model = new ChainCoderModel(getCpuDevice(), config, 1);
    const trainer = new Trainer(model, train, vocabularies, {
      steps,
      batchSize,
      accumulate,
      seed: 4,
      schedule: { peakLr: 1e-3, warmupSteps: 1, initialLr: 1e-7 },
      curriculum: MINIATURE_CURRICULUM,
      maxGradNorm: 0.5,
    });
    disposables.push(model, trainer);
    return trainer;
  }

  it('accumulate 2 × batch 4 equals batch 8', async () => {
    const split = trainerFor(4, 2);
    const whole = trainerFor(8, 1);
    expect(split.updateBatchSize).toBe(8);
    const instances = train.slice(0, 8);
    const shape = { ioSamples: 3, programs: 2 };
    const splitLoss = await split.accumulateGradients(instances, shape);
    const wholeLoss = await whole.accumulateGradients(instances, shape);
    expect(Math.abs(splitLoss - wholeLoss)).toBeLessThan(1e-5 * wholeLoss);

    const splitParameters = split.model.parameters();
    const wholeParameters = whole.model.parameters();
    for (const [index, [name, parameter]] of wholeParameters.entries()) {
      const expected = (await parameter.grad!.read()) as Float32Array;
      const actual = (await splitParameters[index][1].grad!.read()) as Float32Array;
      const scale = Math.max(1e-6, ...Array.from(expected, Math.abs));
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      expect(worst / scale, `gradient of ${name}`).toBeLessThan(1e-4);
    }
  }, 120_000);

  it('first update loss matches the large batch', async () => {
    const split = await trainerFor(4, 2).run();
    const whole = await trainerFor(8, 1).run();
    expect(split).toHaveLength(1);
    expect(split[0].epoch).toBe(whole[0].epoch);
    expect(Math.abs(split[0].loss - whole[0].loss)).toBeLessThan(1e-5 * whole[0].loss);
  }, 120_000);

  it('rejects accumulate 0', () => {
    expect(() => trainerFor(4, 0)).toThrow(/accumulate must be a positive integer/u);
  });
});
