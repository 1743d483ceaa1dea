/**
 * The training loop: epochs over disjoint seeded instance blocks, the
 * periodic I/O-sample curriculum, AdamW with warmup + inverse-square-root
 * learning rate and global-norm clipping, gradient accumulation over
 * micro-batches, optional f16 activations with dynamic loss scaling, and a
 * validation loss.
 */
import { InputError, Random, UsageError, getLogger, throwIfAborted } from '@sculpt/core';
import { AdamW, DynamicLossScaler, noGrad, recordTape, scope, writeTensor, type Tensor } from '@sculpt/runtime-gpu';
import { SEGMENT_NAMES, segmentLabels, type SegmentName } from '../eval/metrics.js';
import type { DescriptionEncoderFiles } from '../model/description-encoder-files.js';
import { assembleBatch, buildBatch, drawBatch, type CodeVocabularies, type PreparedProblem } from '../model/features.js';
import { IGNORE_LABEL, teacherForcingLabels, type ActivationDType, type ChainCoderModel } from '../model/model.js';
import { saveCheckpoint, type Checkpoint, type TrainingState } from './checkpoint.js';
import { epochBatches } from './batches.js';
import { curriculumAt, type Curriculum } from './curriculum.js';
import { learningRateAt, type InverseSqrtSchedule } from './schedule.js';

const log = getLogger('chaincoder:train');

export interface TrainerOptions {
  /** Optimizer updates to run. */
  steps: number;
  /** Instances per micro-batch (8 in the reference and the miniature). */
  batchSize: number;
  /**
   * Micro-batches per optimizer update (default 1). An update uses
   * batchSize × accumulate instances, and its gradient equals that of one
   * batch of that size.
   */
  accumulate?: number;
  /** Activation storage type (default f32); f16 needs a webgpu device with `shader-f16`. */
  activations?: ActivationDType;
  seed: number;
  schedule: InverseSqrtSchedule;
  curriculum: Curriculum;
  /** Global gradient-norm clip; 0.5 in the reference. */
  maxGradNorm: number;
  signal?: AbortSignal;
}

export interface SegmentMetrics {
  loss: number;
  accuracy: number;
  tokens: number;
}

export interface ValidationMetrics {
  /** Mean cross-entropy per predicted token (separators and EOS included). */
  loss: number;
  tokens: number;
  segments: Record<SegmentName, SegmentMetrics>;
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
  random: Random;
  readonly accumulate: number;
  /** Present with f16 activations: scales the loss so small gradients survive f16. */
  readonly lossScaler: DynamicLossScaler | null;

  constructor(
    readonly model: ChainCoderModel,
    readonly train: readonly PreparedProblem[],
    readonly vocabularies: CodeVocabularies,
    readonly options: TrainerOptions,
  ) {
    if (train.length === 0) throw new UsageError('The training split has no usable problems.');
    this.accumulate = options.accumulate ?? 1;
    if (!Number.isInteger(this.accumulate) || this.accumulate < 1) {
      throw new UsageError(`accumulate must be a positive integer (micro-batches per update), got ${this.accumulate}.`);
    }
    model.setActivationDType(options.activations ?? 'f32');
    // The reference uses Adam without weight decay.
    this.optimizer = new AdamW(
      model.parameters().map(([, tensor]) => tensor),
      { lr: options.schedule.peakLr, weightDecay: 0, maxGradNorm: options.maxGradNorm },
    );
    this.random = new Random(options.seed);
    this.lossScaler = options.activations === 'f16' ? new DynamicLossScaler({ initialScale: 2 ** 12, growthInterval: 200 }) : null;
    if (this.lossScaler !== null) this.optimizer.options.lossScale = this.lossScaler.scale;
  }

  /** Instances per optimizer update. */
  get updateBatchSize(): number {
    return this.options.batchSize * this.accumulate;
  }

  /** Runs updates until step `until` (at most `options.steps`) is reached; returns one record per update. */
  async run(onStep?: (record: StepRecord) => void, until = this.options.steps): Promise<StepRecord[]> {
    const records: StepRecord[] = [];
    while (this.step < Math.min(until, this.options.steps)) {
      throwIfAborted(this.options.signal);
      const batches = epochBatches(this.train.length, this.updateBatchSize, this.options.seed, this.epoch);
      if (this.batchIndex >= batches.length) {
        this.epoch++;
        this.batchIndex = 0;
        continue;
      }
      const shape = curriculumAt(this.options.curriculum, this.epoch);
      const instances = batches[this.batchIndex].map((index) => this.train[index]);
      this.batchIndex++;

      const lr = learningRateAt(this.options.schedule, this.step);
      const value = await this.accumulateGradients(instances, shape);
      await this.optimizer.update(lr);
      this.optimizer.zeroGrad();
      if (this.lossScaler !== null) {
        const applied = await this.lossScaler.adjust(this.optimizer);
        if (!applied) log.info(() => `step ${this.step}: gradients overflowed in f16, update skipped; loss scale now ${this.lossScaler!.scale}`);
      }

      const record = { step: this.step, epoch: this.epoch, loss: value, lr, ...shape };
      records.push(record);
      onStep?.(record);
      log.debug(() => `step ${record.step} epoch ${record.epoch} loss ${value.toFixed(4)} lr ${lr.toExponential(2)}`);
      this.step++;
    }
    return records;
  }

  /**
   * Runs forward and backward over the update's instances in micro-batches of
   * `batchSize`, adding their gradients into the parameters' `.grad`. Each
   * micro-batch's mean loss is weighted by its share of the update's target
   * tokens, so the summed gradient equals the gradient of the mean loss over
   * all of them. Returns that mean loss. Draws from the trainer's RNG and does
   * not update the parameters.
   */
  async accumulateGradients(instances: readonly PreparedProblem[], shape: { ioSamples: number; programs: number }): Promise<number> {
    const { config } = this.model;
    // One draw for the whole update keeps its examples independent of how it is split.
    const draws = drawBatch(instances, config, shape, this.random);
    const size = this.options.batchSize;
    const batches = [];
    for (let start = 0; start < instances.length; start += size) {
      batches.push(assembleBatch(instances.slice(start, start + size), draws.slice(start, start + size), this.vocabularies, config));
    }
    const tokens = batches.map((batch) => teacherForcingLabels(batch).filter((label) => label !== IGNORE_LABEL).length);
    const total = tokens.reduce((sum, count) => sum + count, 0);
    const scale = this.optimizer.options.lossScale;

    const losses: { loss: Tensor; weight: number }[] = [];
    for (const [index, batch] of batches.entries()) {
      const weight = total === 0 ? 0 : tokens[index] / total;
      const { tape, result: loss } = recordTape(() => this.model.loss(batch));
      tape.backward(loss, weight * scale);
      this.model.releaseBatchTensors();
      losses.push({ loss, weight });
    }
    let value = 0;
    for (const { loss, weight } of losses) {
      value += (await loss.read())[0] * weight;
      loss.dispose();
    }
    return value;
  }

  /** Returns the counters and RNG state that, with the weights and moments, continue this run exactly. */
  trainingState(): TrainingState {
    const state: TrainingState = { step: this.step, epoch: this.epoch, batchIndex: this.batchIndex, optimizerStep: this.optimizer.step, random: this.random.getState() };
    if (this.lossScaler !== null) state.lossScale = this.lossScaler.scale;
    return state;
  }

  /**
   * Writes a checkpoint of the model, the optimizer and this trainer's
   * position to `dir`, with the ONNX description encoder's files when the
   * model uses one.
   */
  async saveCheckpoint(dir: string, run: Record<string, unknown>, descriptionEncoder?: DescriptionEncoderFiles): Promise<void> {
    await saveCheckpoint(dir, {
      training: this.trainingState(),
      config: this.model.config,
      vocabularies: this.vocabularies,
      parameters: this.model.parameters(),
      moments: this.optimizer.moments(),
      run,
      descriptionEncoder,
    });
  }

  /**
   * Continues from a checkpoint: restores the AdamW moments, the counters and
   * the RNG state. The model's weights must already come from the same
   * checkpoint (`ChainCoderModel.loadWeights` before this trainer was built).
   */
  async restore(checkpoint: Checkpoint): Promise<void> {
    const names = this.model.parameters().map(([name]) => name);
    const moments = this.optimizer.moments();
    for (const [index, name] of names.entries()) {
      const saved = checkpoint.moments.get(name);
      if (saved === undefined) throw new InputError(`optimizer moments for ${name} are missing`, checkpoint.dir);
      if (saved.m.length !== moments[index].m.size || saved.v.length !== moments[index].v.size) {
        throw new InputError(`optimizer moments for ${name} have ${saved.m.length} values; the model needs ${moments[index].m.size}`, checkpoint.dir);
      }
      await writeTensor(moments[index].m, saved.m);
      await writeTensor(moments[index].v, saved.v);
    }
    const { state } = checkpoint;
    this.step = state.step;
    this.epoch = state.epoch;
    this.batchIndex = state.batchIndex;
    this.optimizer.step = state.optimizerStep;
    this.random = new Random(state.random);
    if (this.lossScaler !== null && state.lossScale !== undefined) {
      this.lossScaler.scale = state.lossScale;
      this.optimizer.options.lossScale = state.lossScale;
    }
  }

  /**
   * Teacher-forced metrics over problems with up to 4 I/O samples and one
   * program per instance: the mean loss over every predicted token, and the
   * loss and token accuracy of each segment S1–S4. Separators and EOS count in
   * the overall loss only. Samples are drawn with a fixed seed, so repeated
   * calls agree.
   */
  async validationMetrics(problems: readonly PreparedProblem[], seed = 0): Promise<ValidationMetrics> {
    if (problems.length === 0) throw new UsageError('The validation split has no usable problems.');
    const random = new Random(seed);
    const output = this.vocabularies.output;
    const ids = { bos: output.specialId('bos'), sep: output.specialId('separator'), eos: output.specialId('eos') };
    const sums = SEGMENT_NAMES.map(() => ({ loss: 0, correct: 0, total: 0 }));
    let lossSum = 0;
    let tokens = 0;
    for (let start = 0; start < problems.length; start += this.options.batchSize) {
      const instances = problems.slice(start, start + this.options.batchSize);
      const batch = buildBatch(instances, this.vocabularies, this.model.config, { ioSamples: 4, programs: 1 }, random);
      const logits = noGrad(() => scope(() => this.model.decode(batch, this.model.encode(batch))));
      const values = (await logits.read()) as Float32Array;
      logits.dispose();
      this.model.releaseBatchTensors();

      // Log-softmax in float64 on the host; the batch is small.
      const vocab = this.model.config.outputVocab;
      const labels = teacherForcingLabels(batch);
      const steps = batch.targetLength - 1;
      for (let program = 0; program < batch.programInstance.length; program++) {
        const length = batch.targetLengths[program];
        const target = batch.targets.slice(program * batch.targetLength, program * batch.targetLength + length);
        const segments = segmentLabels(target, ids);
        for (let position = 0; position + 1 < length; position++) {
          const row = (program * steps + position) * vocab;
          const label = labels[program * steps + position];
          let max = -Infinity;
          let argmax = 0;
          for (let v = 0; v < vocab; v++) {
            if (values[row + v] > max) {
              max = values[row + v];
              argmax = v;
            }
          }
          let sum = 0;
          for (let v = 0; v < vocab; v++) sum += Math.exp(values[row + v] - max);
          const loss = Math.log(sum) + max - values[row + label];
          lossSum += loss;
          tokens++;
          const segment = segments[position + 1];
          if (segment < 0) continue;
          sums[segment].loss += loss;
          sums[segment].total++;
          if (argmax === label) sums[segment].correct++;
        }
      }
    }
    const segments = Object.fromEntries(
      SEGMENT_NAMES.map((name, index) => {
        const { loss, correct, total } = sums[index];
        return [name, { loss: total === 0 ? Number.NaN : loss / total, accuracy: total === 0 ? Number.NaN : correct / total, tokens: total }];
      }),
    ) as Record<SegmentName, SegmentMetrics>;
    return { loss: lossSum / tokens, tokens, segments };
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
