/**
 * The benchmark's hand-written training baseline computes the same loss,
 * gradients and Adam update as ChainCoderModel on runtime-gpu's autograd,
 * so its tokens/s are a fair comparison.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '@sculpt/core';
import { AdamW, getCpuDevice, recordTape } from '@sculpt/runtime-gpu';
import { BaselineChainCoder } from '../../bench/baseline/model.js';
import { OrtProducts } from '../../bench/baseline/ort-matmul.js';
import { ChainCoderModel, buildBatch, type DescriptionPooling } from '../../src/model/index.js';
import { prepareTinyProblems, tinyConfig } from '../fixtures/tiny-model.js';

const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0.5 };

async function readParameters(model: ChainCoderModel): Promise<[string, Float32Array, readonly number[]][]> {
  return Promise.all(model.parameters().map(async ([name, tensor]): Promise<[string, Float32Array, readonly number[]]> => [name, Float32Array.from(await tensor.read()), tensor.shape]));
}

/** Largest |a − b| relative to the largest |b| of the parameter (plus a floor for all-zero gradients). */
function relativeDifference(actual: Float32Array, expected: Float32Array): number {
  let difference = 0;
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    difference = Math.max(difference, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return difference / scale;
}

describe('training baseline', async () => {
  const { train: prepared, vocabularies } = await prepareTinyProblems({ count: 10, seed: 4, examples: 3, tests: 2, includeHiddenTests: true, maxTargetLength: 300 });
  const products = new OrtProducts(2);
  const models: ChainCoderModel[] = [];
  afterAll(async () => {
    for (const model of models) model.dispose();
    await products.dispose();
  });

  function createModel(preNorm: boolean, descriptionPooling?: DescriptionPooling): ChainCoderModel {
    const config = tinyConfig(vocabularies, { maxTargetLength: 300, preNorm, descriptionPooling });
    const model = new ChainCoderModel(getCpuDevice(), config, 11);
    models.push(model);
    return model;
  }

  // Three instances with different description, I/O and target lengths exercise the padding masks.
  const batch = buildBatch(prepared.slice(0, 3), vocabularies, createModel(false).config, { ioSamples: 3, programs: 2 }, new Random(5));

  const variants: { preNorm: boolean; pooling: DescriptionPooling }[] = [
    { preNorm: false, pooling: 'first-last-max-min' },
    { preNorm: true, pooling: 'first-last-mean' },
  ];
  for (const { preNorm, pooling } of variants) {
    it(`matches autograd gradients (${preNorm ? 'pre-LN' : 'post-LN'}, ${pooling})`, async () => {
      const model = createModel(preNorm, pooling);
      const baseline = new BaselineChainCoder(model.config, await readParameters(model), products);
      for (const [, tensor] of model.parameters()) tensor.requiresGrad = true;

      const { tape, result: loss } = recordTape(() => model.loss(batch));
      tape.backward(loss);
      model.releaseBatchTensors();
      const expectedLoss = (await loss.read())[0];
      loss.dispose();

      const baselineLoss = await baseline.lossAndGradients(batch);
      expect(Math.abs(baselineLoss - expectedLoss)).toBeLessThan(1e-5 * Math.abs(expectedLoss));

      let checked = 0;
      for (const [name, tensor] of model.parameters()) {
        expect(tensor.grad, `autograd gradient of ${name}`).not.toBeNull();
        const expected = Float32Array.from(await tensor.grad!.read());
        const actual = baseline.params.get(name)?.grad;
        expect(actual, `baseline gradient of ${name}`).not.toBeNull();
        expect(relativeDifference(actual!, expected), name).toBeLessThan(1e-4);
        tensor.grad!.dispose();
        tensor.grad = null;
        checked++;
      }
      expect(checked).toBe(model.parameters().length);
    });
  }

  it('matches an AdamW step with clipping', async () => {
    const model = createModel(false, 'first-last-max-min');
    const baseline = new BaselineChainCoder(model.config, await readParameters(model), products);
    const optimizer = new AdamW(model.parameters().map(([, tensor]) => tensor), { lr: 1e-3, weightDecay: 0, maxGradNorm: ADAM.maxGradNorm });

    for (let step = 0; step < 2; step++) {
      const { tape, result: loss } = recordTape(() => model.loss(batch));
      tape.backward(loss);
      model.releaseBatchTensors();
      await optimizer.update(1e-3);
      optimizer.zeroGrad();
      loss.dispose();
      await baseline.trainStep(batch, 1e-3, ADAM);
    }

    for (const [name, tensor] of model.parameters()) {
      const expected = Float32Array.from(await tensor.read());
      const actual = baseline.params.get(name)!.data;
      let difference = 0;
      for (let i = 0; i < expected.length; i++) difference = Math.max(difference, Math.abs(actual[i] - expected[i]));
      // Two steps of lr 1e-3 move a weight by at most about 2e-3; the two updates agree far below that.
      expect(difference, name).toBeLessThan(5e-5);
    }
  });
});
