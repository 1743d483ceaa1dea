/**
 * The model with a frozen ONNX description encoder: a projection replaces
 * the trainable description stack, features come from a real onnxruntime
 * session once per problem, and gradients stop at the projection. Configs
 * without the field keep their parameters and initial weights. Incremental
 * generation matches the teacher-forced forward for models with four pooled
 * description vectors, whether trainable or ONNX.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '@sculpt/core';
import { getCpuDevice, recordTape } from '@sculpt/runtime-gpu';
import {
  ChainCoderModel,
  DescriptionFeatureCache,
  OnnxDescriptionEncoder,
  buildBatch,
  type ChainCoderConfig,
  type PreparedProblem,
} from '../../src/model/index.js';
import { kvCacheLogitDifferences } from '../fixtures/teacher-forcing.js';
import { prepareTinyProblems, tinyConfig } from '../fixtures/tiny-model.js';
import { HIDDEN, encoderGraph, tokenizerJson } from './tiny-text-encoder.js';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('ONNX description encoder in the model', async () => {
  const device = getCpuDevice();
  const { train: prepared, vocabularies } = await prepareTinyProblems({ count: 6, seed: 4, examples: 2, tests: 1, includeHiddenTests: false, maxTargetLength: 400 });
  let folder: string;
  let encoder: OnnxDescriptionEncoder;
  let onnxConfig: ChainCoderConfig;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'sculpt-onnx-model-'));
    const model = join(folder, 'encoder.onnx');
    const tokenizer = join(folder, 'tokenizer.json');
    await writeFile(model, encoderGraph());
    await writeFile(tokenizer, JSON.stringify(tokenizerJson()));
    encoder = await OnnxDescriptionEncoder.load({ model, tokenizer, maxLength: 32 });
    onnxConfig = tinyConfig(vocabularies, {
      descriptionPooling: 'first-last-max-min',
      descriptionEncoder: { kind: 'onnx', hidden: HIDDEN, modelSha256: sha256(await readFile(model)), tokenizerSha256: sha256(await readFile(tokenizer)), maxLength: 32 },
    });
  });

  afterAll(async () => {
    await encoder.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  /** Prepared problems with features attached by a fresh cache. */
  async function withFeatures(): Promise<PreparedProblem[]> {
    const copies = prepared.map((problem) => ({ ...problem }));
    await new DescriptionFeatureCache(encoder, 'first-last-max-min').attach(copies);
    return copies;
  }

  it('caches features by problem id', async () => {
    const cache = new DescriptionFeatureCache(encoder, 'first-last-max-min');
    const first = prepared.slice(0, 3).map((problem) => ({ ...problem }));
    await cache.attach(first);
    expect(cache.size).toBe(3);
    for (const problem of first) expect(problem.descriptionFeatures).toHaveLength(4 * HIDDEN);

    // The same ids again reuse the cached arrays instead of running the encoder.
    const again = prepared.slice(0, 3).map((problem) => ({ ...problem }));
    await cache.attach(again);
    expect(cache.size).toBe(3);
    again.forEach((problem, index) => expect(problem.descriptionFeatures).toBe(first[index].descriptionFeatures));

    // A description encoded alone equals its pooled features from a padded batch.
    const pooled = await encoder.encodePooled([prepared[0].description, 'read two numbers and print the sum'], 'first-last-max-min');
    expect(Array.from(first[0].descriptionFeatures!)).toEqual(Array.from(pooled.subarray(0, 4 * HIDDEN)));
  });

  it('replaces the description stack', () => {
    const model = new ChainCoderModel(device, onnxConfig, 3);
    try {
      const names = model.parameters().map(([name]) => name);
      expect(names).toContain('description_projection.weight');
      expect(names).toContain('description_projection.bias');
      expect(names).toContain('description_marker.weight');
      expect(names.filter((name) => /^description_(embed|position|norm|blocks)/u.test(name))).toEqual([]);
      expect(model.descriptionVectors).toBe(4);
      expect(model.params.get('description_marker.weight').shape).toEqual([4, 16]);
    } finally {
      model.dispose();
    }
  });

  it('trains only through the projection', async () => {
    const model = new ChainCoderModel(device, onnxConfig, 3);
    try {
      const batch = buildBatch((await withFeatures()).slice(0, 2), vocabularies, onnxConfig, { ioSamples: 2, programs: 1 }, new Random(2));
      expect(batch.descriptionFeatures).toHaveLength(2 * 4 * HIDDEN);
      // The optimizer marks parameters trainable; without one, the test does.
      for (const [, tensor] of model.parameters()) tensor.requiresGrad = true;
      const { tape, result: loss } = recordTape(() => model.loss(batch));
      tape.backward(loss);
      model.releaseBatchTensors();
      expect(Number.isFinite((await loss.read())[0])).toBe(true);
      loss.dispose();

      const projection = model.descriptionProjection!;
      const weightGrad = await projection.params.get('weight').grad!.read();
      expect(weightGrad.some((value) => value !== 0)).toBe(true);
      const biasGrad = await projection.params.get('bias').grad!.read();
      expect(biasGrad.some((value) => value !== 0)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('rejects problems without features', () => {
    expect(() => buildBatch(prepared.slice(0, 1), vocabularies, onnxConfig, { ioSamples: 1, programs: 1 }, new Random(1))).toThrow(/has no description features/u);
  });

  it('keeps configs without the field', () => {
    // A config saved before descriptionPooling and descriptionEncoder existed.
    const legacy = tinyConfig(vocabularies);
    const model = new ChainCoderModel(device, JSON.parse(JSON.stringify(legacy)) as ChainCoderConfig, 5);
    try {
      const names = model.parameters().map(([name]) => name);
      for (const name of ['description_embed.weight', 'description_position.weight', 'description_norm.weight']) expect(names).toContain(name);
      expect(names.some((name) => name.startsWith('description_blocks.0.'))).toBe(true);
      expect(names.some((name) => name.startsWith('description_projection'))).toBe(false);
      expect(model.descriptionProjection).toBeNull();
      expect(model.descriptionVectors).toBe(3);
      expect(model.params.get('description_marker.weight').shape).toEqual([3, 16]);
    } finally {
      model.dispose();
    }
  });

  it('draws old configs the same weights', async () => {
    // SHA-256 over (name, f32 bytes) of every initial parameter with seed 5,
    // computed before the ONNX encoder existed. A change would mean that
    // training runs of older configs are no longer reproduced.
    const config = tinyConfig({ inputVocab: 50, outputVocab: 60, descriptionVocab: 40 });
    const model = new ChainCoderModel(device, config, 5);
    try {
      const hash = createHash('sha256');
      for (const [name, tensor] of model.parameters()) {
        hash.update(name);
        hash.update(new Uint8Array(((await tensor.read()) as Float32Array).buffer));
      }
      expect(hash.digest('hex')).toBe('f92020ef092e485104ff804cc1e8fcaae96366a4a008bcb821d67357d1ac3f99');
    } finally {
      model.dispose();
    }
  });

  for (const kind of ['trainable', 'onnx'] as const) {
    it(`generates like teacher forcing (${kind}, 4 vectors)`, async () => {
      const config = kind === 'onnx' ? onnxConfig : tinyConfig(vocabularies, { descriptionPooling: 'first-last-max-min' });
      const model = new ChainCoderModel(device, config, 7);
      try {
        expect(model.descriptionVectors).toBe(4);
        const problemsWithFeatures = kind === 'onnx' ? await withFeatures() : prepared;
        const batch = buildBatch([problemsWithFeatures[0]], vocabularies, config, { ioSamples: 2, programs: 1 }, new Random(1));
        const differences = await kvCacheLogitDifferences(model, batch);
        // A mask that leaves out the last I/O row shifts these random-weight logits by about 1e-4.
        expect(differences.first).toBeLessThan(1e-5);
        expect(differences.max).toBeLessThan(1e-5);
      } finally {
        model.dispose();
      }
    });
  }
});
