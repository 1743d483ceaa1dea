/**
 * A training or scoring batch as plain id arrays, ready to become tensors.
 * The batch builder fills it from tokenized problems; the model only reads it.
 */
import { InputError } from '@sculpt/core';

export interface ModelBatch {
  /** Problem instances I. */
  instances: number;
  /** Samples per instance after padding, S. */
  samples: number;
  /** Aligned I/O token positions after padding, T. */
  ioLength: number;
  /**
   * Input-vocabulary ids of every (instance i, position t, channel c, sample s)
   * at index ((i·T + t)·2 + c)·S + s. Channel 0 is syntax and channel 1 is content.
   */
  ioIds: number[];
  /** Real samples per instance (at least 1). */
  sampleCounts: number[];
  /** Real I/O positions per instance (at least 1). */
  ioLengths: number[];
  /** Description tokens per instance after padding, Ld. */
  descriptionLength: number;
  /** Description-vocabulary ids at index i·Ld + position. */
  descriptionIds: number[];
  /** Real description tokens per instance (at least 1). */
  descriptionLengths: number[];
  /**
   * Pooled features of a frozen ONNX description encoder, [I, vectors, hidden],
   * present only for models with `descriptionEncoder` in their config. Such
   * models read these and ignore the description ids.
   */
  descriptionFeatures?: Float32Array;
  /** Instance of each program row, [B]. */
  programInstance: number[];
  /** Target tokens per program after padding, Lt (BOS and EOS included). */
  targetLength: number;
  /** Output-vocabulary ids at index b·Lt + position. */
  targets: number[];
  /** Real target tokens per program (at least 2: BOS and EOS). */
  targetLengths: number[];
}

/** Checks sizes and index ranges so a malformed batch fails with a message instead of a kernel error. */
export function checkBatch(batch: ModelBatch): void {
  const { instances: I, samples: S, ioLength: T, descriptionLength: Ld, targetLength: Lt } = batch;
  const programs = batch.programInstance.length;
  const expect = (name: string, actual: number, wanted: number): void => {
    if (actual !== wanted) throw new InputError(`Model batch: ${name} has ${actual} entries, expected ${wanted}.`);
  };
  expect('ioIds', batch.ioIds.length, I * T * 2 * S);
  expect('sampleCounts', batch.sampleCounts.length, I);
  expect('ioLengths', batch.ioLengths.length, I);
  expect('descriptionIds', batch.descriptionIds.length, I * Ld);
  expect('descriptionLengths', batch.descriptionLengths.length, I);
  expect('targets', batch.targets.length, programs * Lt);
  expect('targetLengths', batch.targetLengths.length, programs);
  const within = (name: string, values: number[], max: number, min = 1): void => {
    values.forEach((value, index) => {
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new InputError(`Model batch: ${name}[${index}] = ${value} is outside [${min}, ${max}].`);
      }
    });
  };
  within('sampleCounts', batch.sampleCounts, S);
  within('ioLengths', batch.ioLengths, T);
  within('descriptionLengths', batch.descriptionLengths, Ld);
  within('targetLengths', batch.targetLengths, Lt, 2);
  within('programInstance', batch.programInstance, I - 1, 0);
}
