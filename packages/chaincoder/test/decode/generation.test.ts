/**
 * Incremental decoding with the KV cache matches the teacher-forced forward
 * pass, and constrained generation always yields well-formed segments.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Registry, type Decoder } from '@sculpt/core';
import { generateProblems } from '@sculpt/datasets';
import { getCpuDevice, noGrad, scope } from '@sculpt/runtime-gpu';
import {
  ChainCoderDecodingModel,
  buildCooccurrence,
  generateCandidates,
  outputLayout,
  splitSegments,
} from '../../src/decode/index.js';
import { ChainCoderModel, buildBatch, buildCodeVocabularies, prepareProblems, type ChainCoderConfig } from '../../src/model/index.js';

function smallConfig(vocabularies: { inputVocab: number; outputVocab: number; descriptionVocab: number }): ChainCoderConfig {
  return {
    dim: 16,
    heads: 2,
    hiddenDim: 32,
    sampleEmbedderLayers: 1,
    descriptionLayers: 1,
    encoderLayers: 1,
    decoderLayers: 2,
    maxSamples: 8,
    maxDescriptionLength: 64,
    maxIoLength: 128,
    maxTargetLength: 400,
    normEps: 1e-12,
    preNorm: false,
    ...vocabularies,
  };
}

describe('ChainCoder generation', async () => {
  const problems = generateProblems({ count: 8, seed: 9, examples: 2, tests: 2, fractions: { validation: 0, test: 0 } });
  const { prepared } = await prepareProblems(problems, { tokenizer: { mode: 'lossless' }, includeHiddenTests: false, maxTargetLength: 400 });
  const vocabularies = buildCodeVocabularies(prepared, { mode: 'lossless' });
  const config = smallConfig({ inputVocab: vocabularies.input.size, outputVocab: vocabularies.output.size, descriptionVocab: vocabularies.description.size + 2 });
  const model = new ChainCoderModel(getCpuDevice(), config, 7);
  afterAll(() => model.dispose());

  it('matches teacher forcing with the KV cache', async () => {
    const batch = buildBatch([prepared[0]], vocabularies, config, { ioSamples: 2, programs: 1 }, new Random(1));
    const { full, encoded } = noGrad(() =>
      scope(() => {
        const memory = model.encode(batch);
        return { full: model.decode(batch, memory), encoded: memory };
      }),
    );
    model.releaseBatchTensors();
    const vocab = config.outputVocab;
    const fullLogits = await full.read();
    const steps = batch.targetLength - 1;

    const generation = new ChainCoderDecodingModel(model, encoded, batch.ioLengths[0], batch.targetLength);
    const started = await generation.start([[batch.targets[0]]]);
    let logits = started.logits;
    let maxDifference = 0;
    for (let position = 0; position < steps; position++) {
      const reference = fullLogits.slice(position * vocab, (position + 1) * vocab);
      logits[0].forEach((value, id) => {
        maxDifference = Math.max(maxDifference, Math.abs(value - reference[id]));
      });
      if (position + 1 < steps) logits = await generation.step(started.state, [batch.targets[position + 1]]);
    }
    generation.dispose(started.state);
    full.dispose();
    encoded.dispose();
    expect(maxDifference).toBeLessThan(1e-4);
  });

  it('keeps constrained candidates well formed', async () => {
    const registry = new Registry();
    const decoder = (await registry.create('decoder', 'constrained', { mode: 'sample', seed: 3 })) as Decoder;
    const output = vocabularies.output;
    const separator = output.specialId('separator');
    const cooccurrence = buildCooccurrence(
      prepared.flatMap((problem) =>
        problem.programs.map((program) => [
          ...output.encodeIds(program.s1),
          separator,
          ...output.encodeIds(program.s2),
          separator,
          ...output.encodeIds(program.s3),
          separator,
          ...output.encodeIds(program.s4),
        ]),
      ),
      outputLayout(output),
    );
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
