/**
 * Checkpoints on the cpu device: a run stopped halfway and resumed from its
 * checkpoint must match an uninterrupted run exactly.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, getCpuDevice } from '@sculpt/runtime-gpu';
import { ChainCoderModel, type ChainCoderConfig, type CodeVocabularies, type PreparedProblem } from '../../src/model/index.js';
import { MINIATURE_CURRICULUM, STATE_FILE, Trainer, loadCheckpoint, type StepRecord } from '../../src/train/index.js';
import { prepareTinyProblems, tinyConfig } from '../fixtures/tiny-model.js';

const STEPS = 6;

describe('checkpoints', () => {
  let dir: string;
  let train: PreparedProblem[];
  let validation: PreparedProblem[];
  let vocabularies: CodeVocabularies;
  let config: ChainCoderConfig;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chaincoder-checkpoint-'));
    const fractions = { validation: 0.2, test: 0.1 };
    ({ train, validation, vocabularies } = await prepareTinyProblems({ count: 24, seed: 5, examples: 2, tests: 2, fractions, includeHiddenTests: true, maxTargetLength: 400 }));
    config = tinyConfig(vocabularies, { decoderLayers: 1, maxDescriptionLength: 48, maxIoLength: 96 });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function trainerFor(model: ChainCoderModel, steps: number, batchSize = 3, accumulate = 1): Trainer {
    return new Trainer(model, train, vocabularies, {
      steps,
      batchSize,
      accumulate,
      seed: 7,
      schedule: { peakLr: 5e-3, warmupSteps: 2, initialLr: 1e-7 },
      curriculum: MINIATURE_CURRICULUM,
      maxGradNorm: 0.5,
    });
  }

  async function weightsOf(model: ChainCoderModel): Promise<Map<string, Float32Array>> {
    const entries = await Promise.all(model.parameters().map(async ([name, tensor]) => [name, (await tensor.read()) as Float32Array] as const));
    return new Map(entries);
  }

  /** Trains STEPS updates straight and again in two halves with a checkpoint between them, and compares. */
  async function expectExactResume(modelConfig: ChainCoderConfig, batchSize: number, accumulate: number): Promise<void> {
    const device = getCpuDevice();

    const straightModel = new ChainCoderModel(device, modelConfig, 1);
    const straight = trainerFor(straightModel, STEPS, batchSize, accumulate);
    const straightRecords = await straight.run();
    const straightWeights = await weightsOf(straightModel);
    straight.dispose();
    straightModel.dispose();

    // First half, then a checkpoint; the trainer and model are discarded as if the process had been killed.
    const firstModel = new ChainCoderModel(device, modelConfig, 1);
    const first = trainerFor(firstModel, STEPS / 2, batchSize, accumulate);
    const firstRecords = await first.run();
    const checkpointDir = join(dir, 'run', 'checkpoint');
    await first.saveCheckpoint(checkpointDir, { note: 'test' });
    first.dispose();
    firstModel.dispose();

    // A different initialization seed, so every weight must come from the checkpoint.
    const checkpoint = await loadCheckpoint(checkpointDir);
    expect(checkpoint.state.step).toBe(STEPS / 2);
    expect(checkpoint.state.config).toEqual(modelConfig);
    expect(checkpoint.vocabularies.output.toJSON()).toEqual(vocabularies.output.toJSON());
    expect(checkpoint.vocabularies.description).toEqual(vocabularies.description);
    const resumedModel = new ChainCoderModel(device, checkpoint.state.config, 99);
    resumedModel.loadWeights(checkpoint.weights);
    const resumed = trainerFor(resumedModel, STEPS, batchSize, accumulate);
    await resumed.restore(checkpoint);
    const secondRecords = await resumed.run();
    const resumedWeights = await weightsOf(resumedModel);
    resumed.dispose();
    resumedModel.dispose();

    const losses = (records: StepRecord[]): number[] => records.map((record) => record.loss);
    expect([...losses(firstRecords), ...losses(secondRecords)]).toEqual(losses(straightRecords));
    expect(secondRecords.map((record) => record.step)).toEqual([3, 4, 5]);
    expect([...resumedWeights.keys()]).toEqual([...straightWeights.keys()]);
    for (const [name, values] of straightWeights) {
      expect(Buffer.from(resumedWeights.get(name)!.buffer).equals(Buffer.from(values.buffer)), name).toBe(true);
    }
  }

  it('resumes bit for bit', async () => {
    await expectExactResume(config, 3, 1);
  }, 120_000);

  it('resumes bit for bit with accumulation', async () => {
    await expectExactResume({ ...config, descriptionPooling: 'first-last-max-min' }, 2, 2);
  }, 120_000);

  it('writes weights and moments as safetensors', async () => {
    const model = new ChainCoderModel(getCpuDevice(), config, 2);
    const trainer = trainerFor(model, 1);
    await trainer.run();
    const checkpointDir = join(dir, 'files');
    await trainer.saveCheckpoint(checkpointDir, {});
    // A second save replaces the first without leaving temporary folders.
    await trainer.saveCheckpoint(checkpointDir, {});
    const names = model.parameters().map(([name]) => name);
    trainer.dispose();
    model.dispose();

    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
    const weights = await SafetensorsFile.open(join(checkpointDir, 'weights.safetensors'));
    expect(weights.names.sort()).toEqual([...names].sort());
    await weights.close();
    const moments = await SafetensorsFile.open(join(checkpointDir, 'optimizer.safetensors'));
    expect(moments.names).toHaveLength(names.length * 2);
    const firstMoment = await moments.readFloat32(`m.${names[0]}`);
    expect(firstMoment.some((value) => value !== 0)).toBe(true);
    await moments.close();
  }, 60_000);

  it('rejects mismatched vocabularies', async () => {
    const model = new ChainCoderModel(getCpuDevice(), config, 3);
    const trainer = trainerFor(model, 0);
    const checkpointDir = join(dir, 'tampered');
    await trainer.saveCheckpoint(checkpointDir, {});
    trainer.dispose();
    model.dispose();

    const file = join(checkpointDir, 'vocabularies.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"input"', '"input" '));
    await expect(loadCheckpoint(checkpointDir)).rejects.toThrow(/vocabulary hash does not match/u);
    await writeFile(join(checkpointDir, STATE_FILE), '{"format": "other"}');
    await expect(loadCheckpoint(checkpointDir)).rejects.toThrow(/not a ChainCoder checkpoint/u);
    await expect(loadCheckpoint(join(dir, 'missing'))).rejects.toThrow(/cannot read the checkpoint state/u);
  });

  it('reports per-segment validation metrics', async () => {
    const model = new ChainCoderModel(getCpuDevice(), config, 4);
    // One batch contains every validation problem, so both losses average the same tokens.
    const trainer = trainerFor(model, 0, validation.length);
    const metrics = await trainer.validationMetrics(validation);
    const loss = await trainer.validationLoss(validation);
    trainer.dispose();
    model.dispose();

    expect(metrics.loss).toBeCloseTo(loss, 4);
    // Untrained, the loss is near ln(vocabulary size).
    expect(Math.abs(metrics.loss - Math.log(config.outputVocab))).toBeLessThan(1);
    for (const segment of ['S1', 'S2', 'S3', 'S4'] as const) {
      expect(metrics.segments[segment].tokens).toBeGreaterThan(0);
      expect(metrics.segments[segment].accuracy).toBeGreaterThanOrEqual(0);
      expect(metrics.segments[segment].accuracy).toBeLessThanOrEqual(1);
    }
    // Three separators and EOS per program are in the overall loss only.
    const segmentTokens = Object.values(metrics.segments).reduce((sum, segment) => sum + segment.tokens, 0);
    expect(metrics.tokens - segmentTokens).toBe(validation.length * 4);
  });
});
