/**
 * End to end on generated problems: tokenize, build vocabularies from the
 * training split, and train a small ChainCoder on the cpu device.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { generateProblems } from '@sculpt/datasets';
import { getCpuDevice } from '@sculpt/runtime-gpu';
import { ChainCoderModel, buildCodeVocabularies, prepareProblems, type ChainCoderConfig } from '../../src/model/index.js';
import { MINIATURE_CURRICULUM, Trainer } from '../../src/train/index.js';

describe('Trainer', () => {
  const disposables: { dispose(): void }[] = [];
  afterAll(() => {
    for (const item of disposables) item.dispose();
  });

  it('lowers the training loss on generated problems', async () => {
    const problems = generateProblems({ count: 30, seed: 2, examples: 2, tests: 3, fractions: { validation: 0.2, test: 0.2 } });
    const maxTargetLength = 400;
    const tokenizer = { mode: 'lossless' as const };
    const train = await prepareProblems(
      problems.filter((problem) => problem.split === 'train'),
      { tokenizer, includeHiddenTests: true, maxTargetLength },
    );
    const validation = await prepareProblems(
      problems.filter((problem) => problem.split === 'validation'),
      { tokenizer, includeHiddenTests: false, maxTargetLength },
    );
    expect(train.prepared.length).toBeGreaterThan(10);
    expect(validation.prepared.length).toBeGreaterThan(0);

    const vocabularies = buildCodeVocabularies(train.prepared, { mode: 'lossless' });
    const config: ChainCoderConfig = {
      dim: 32,
      heads: 2,
      hiddenDim: 64,
      sampleEmbedderLayers: 1,
      descriptionLayers: 1,
      encoderLayers: 1,
      decoderLayers: 2,
      inputVocab: vocabularies.input.size,
      outputVocab: vocabularies.output.size,
      descriptionVocab: vocabularies.description.size + 2,
      maxSamples: 8,
      maxDescriptionLength: 64,
      maxIoLength: 128,
      maxTargetLength,
      normEps: 1e-12,
      preNorm: false,
    };
    const model = new ChainCoderModel(getCpuDevice(), config, 1);
    disposables.push(model);
    const trainer = new Trainer(model, train.prepared, vocabularies, {
      steps: 16,
      batchSize: 3,
      seed: 3,
      schedule: { peakLr: 1e-2, warmupSteps: 2, initialLr: 1e-7 },
      curriculum: MINIATURE_CURRICULUM,
      maxGradNorm: 0.5,
    });
    disposables.push(trainer);

    const before = await trainer.validationLoss(validation.prepared);
    const records = await trainer.run();
    const after = await trainer.validationLoss(validation.prepared);

    expect(records).toHaveLength(16);
    const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    const first = mean(records.slice(0, 4).map((record) => record.loss));
    const last = mean(records.slice(-4).map((record) => record.loss));
    expect(last).toBeLessThan(first * 0.8);
    expect(after).toBeLessThan(before);
    expect(new Set(records.map((record) => record.epoch)).size).toBeGreaterThan(1);
  }, 300_000);
});
