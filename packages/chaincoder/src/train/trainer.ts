/**
 * The training loop: epochs over disjoint seeded instance blocks, the
 * periodic I/O-sample curriculum, AdamW with warmup + inverse-square-root
 * learning rate and global-norm clipping, and a validation loss.
 */
import { Random, UsageError, getLogger, throwIfAborted } from '@sculpt/core';
import { AdamW, noGrad, recordTape } from '@sculpt/runtime-gpu';
import { buildBatch, type CodeVocabularies, type PreparedProblem } from '../model/features.js';
import type { ChainCoderModel } from '../model/model.js';
import { epochBatches } from './batches.js';
import { curriculumAt, type Curriculum } from './curriculum.js';
import { learningRateAt, type InverseSqrtSchedule } from './schedule.js';

const log = getLogger('chaincoder:train');

export interface TrainerOptions {
  /** Optimizer updates to run. */
  steps: number;
  /** Instances per batch (8 in the reference and the miniature). */
  batchSize: number;
  seed: number;
  schedule: InverseSqrtSchedule;
  curriculum: Curriculum;
  /** Global gradient-norm clip; 0.5 in the reference. */
  maxGradNorm: number;
  signal?: AbortSignal;
}

export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  ioSamples: number;
  programs: number;
}

export class Trainer {
  readonly optimizer: AdamW;
  step = 0;
  epoch = 0;
  /** Next batch within the current epoch. */
  batchIndex = 0;
  readonly random: Random;

  constructor(
    readonly model: ChainCoderModel,
    readonly train: readonly PreparedProblem[],
    readonly vocabularies: CodeVocabularies,
    readonly options: TrainerOptions,
  ) {
    if (train.length === 0) throw new UsageError('The training split has no usable problems.');
    // The reference uses Adam without weight decay.
    this.optimizer = new AdamW(
      model.parameters().map(([, tensor]) => tensor),
      { lr: options.schedule.peakLr, weightDecay: 0, maxGradNorm: options.maxGradNorm },
    );
    this.random = new Random(options.seed);
  }

  /** Runs updates until `options.steps` is reached; returns one record per update. */
  async run(onStep?: (record: StepRecord) => void): Promise<StepRecord[]> {
    const records: StepRecord[] = [];
    while (this.step < this.options.steps) {
      throwIfAborted(this.options.signal);
      const batches = epochBatches(this.train.length, this.options.batchSize, this.options.seed, this.epoch);
      if (this.batchIndex >= batches.length) {
        this.epoch++;
        this.batchIndex = 0;
        continue;
      }
      const shape = curriculumAt(this.options.curriculum, this.epoch);
      const instances = batches[this.batchIndex].map((index) => this.train[index]);
      this.batchIndex++;

      const batch = buildBatch(instances, this.vocabularies, this.model.config, shape, this.random);
      const lr = learningRateAt(this.options.schedule, this.step);
      const { tape, result: loss } = recordTape(() => this.model.loss(batch));
      tape.backward(loss);
      this.model.releaseBatchTensors();
      await this.optimizer.update(lr);
      this.optimizer.zeroGrad();
      const value = (await loss.read())[0];
      loss.dispose();

      const record = { step: this.step, epoch: this.epoch, loss: value, lr, ...shape };
      records.push(record);
      onStep?.(record);
      log.debug(() => `step ${record.step} epoch ${record.epoch} loss ${value.toFixed(4)} lr ${lr.toExponential(2)}`);
      this.step++;
    }
    return records;
  }

  /**
   * Mean teacher-forced loss over problems, with up to 4 I/O samples and one
   * program per instance, drawn with a fixed seed so repeated calls agree.
   */
  async validationLoss(problems: readonly PreparedProblem[], seed = 0): Promise<number> {
    if (problems.length === 0) throw new UsageError('The validation split has no usable problems.');
    const random = new Random(seed);
    let total = 0;
    let count = 0;
    for (let start = 0; start < problems.length; start += this.options.batchSize) {
      const instances = problems.slice(start, start + this.options.batchSize);
      const batch = buildBatch(instances, this.vocabularies, this.model.config, { ioSamples: 4, programs: 1 }, random);
      const loss = noGrad(() => this.model.loss(batch));
      total += (await loss.read())[0] * instances.length;
      count += instances.length;
      loss.dispose();
      this.model.releaseBatchTensors();
    }
    return total / count;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

// TODO: checkpoints are missing: safetensors weights, optimizer moments and a JSON state (step, epoch, batchIndex, RNG state, config, vocabulary hash), written atomically.
// TODO: also missing are bit-exact resume, per-segment metrics in core's SQLite store, loss-curve plots, gradient accumulation and `sculpt chaincoder train`.
