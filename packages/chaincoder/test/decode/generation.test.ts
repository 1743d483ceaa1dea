/**
 * Incremental decoding with the KV cache matches the teacher-forced forward
 * pass, and constrained generation always yields well-formed segments.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Registry, type Decoder } from '@sculpt/core';
import { getCpuDevice } from '@sculpt/runtime-gpu';
import { buildCooccurrence, generateCandidates, outputLayout, splitSegments } from '../../src/decode/index.js';
import { ChainCoderModel, buildBatch } from '../../src/model/index.js';
import { targetIds } from '../../src/train/experiment.js';
import { kvCacheLogitDifferences } from '../fixtures/teacher-forcing.js';
import { prepareTinyProblems, tinyConfig } from '../fixtures/tiny-model.js';

describe('ChainCoder generation', async () => {
  const { train: prepared, vocabularies } = await prepareTinyProblems({ count: 8, seed: 9, examples: 2, tests: 2, includeHiddenTests: false, maxTargetLength: 400 });
  const config = tinyConfig(vocabularies);
  const model = new ChainCoderModel(getCpuDevice(), config, 7);
  afterAll(() => model.dispose());

  it('matches teacher forcing with the KV cache', async () => {
    const batch = buildBatch([prepared[0]], vocabularies, config, { ioSamples: 2, programs: 1 }, new Random(1));
    const differences = await kvCacheLogitDifferences(model, batch);
    expect(differences.max).toBeLessThan(1e-4);
  });

  it('keeps constrained candidates well formed', async () => {
    const registry = new Registry();
    const decoder = (await registry.create('decoder', 'constrained', { mode: 'sample', seed: 3 })) as Decoder;
    const output = vocabularies.output;
    const cooccurrence = buildCooccurrence(targetIds(vocabularies, prepared), outputLayout(output));
    const result = await generateCandidates(model, vocabularies, prepared[1], decoder, { n: 3, maxNewTokens: 40, mode: 'lossless', cooccurrence, seed: 0 });
    expect(result.sequences).toHaveLength(3);
    for (const sequence of result.sequences) {
      expect(splitSegments([...sequence, output.specialId('eos')], outputLayout(output))).not.toBeNull();
    }
  });

  it('takes beam candidates from one prompt', async () => {
    const registry = new Registry();
    const decoder = (await registry.create('decoder', 'beam', { width: 3, numReturn: 3 })) as Decoder;
    const result = await generateCandidates(model, vocabularies, prepared[1], decoder, { n: 3, maxNewTokens: 12, mode: 'lossless', seed: 0, sequencesFromOnePrompt: true });
    expect(result.sequences).toHaveLength(3);
    expect(result.programs).toHaveLength(3);
    // Beam search returns distinct hypotheses.
    expect(new Set(result.sequences.map((sequence) => sequence.join(','))).size).toBe(3);
  });
});
