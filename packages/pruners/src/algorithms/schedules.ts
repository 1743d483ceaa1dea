/**
 * Per-block sparsity schedules: uniform, an explicit list, and OWL
 * (outlier-weighted layer-wise sparsity, Yin et al., 2024).
 */
import { UsageError } from '@sculpt/core';
import type { BlockObservation, SparsitySchedule } from '../types.js';
import { wandaScore } from './scorers.js';

export function uniformSchedule(): SparsitySchedule {
  return {
    name: 'uniform',
    needsPrepass: false,
    blockSparsities: (blockCount, target) => new Array<number>(blockCount).fill(target),
  };
}

/** One sparsity per block, given by the user; the list length must equal the block count. */
export function explicitSchedule(values: readonly number[]): SparsitySchedule {
  for (const value of values) {
    if (!(value >= 0 && value <= 1)) throw new UsageError(`block sparsity must be between 0 and 1, got ${value}`);
  }
  return {
    name: 'explicit',
    needsPrepass: false,
    blockSparsities(blockCount) {
      if (values.length !== blockCount) {
        throw new UsageError(`the sparsity list has ${values.length} entries but the model has ${blockCount} blocks`);
      }
      return [...values];
    },
  };
}

export interface OwlOptions {
  /** λ: the spread of block sparsities is [p − λ, p + λ]; OWL's default is 0.08. */
  lambda: number;
  /** M: a score counts as an outlier when it exceeds M times the block mean. */
  outlierMultiple: number;
}

/**
 * Outlier ratio of one block: the percentage of Wanda scores, over all its
 * linear layers together, above M × their mean.
 */
export function outlierRatio(observation: BlockObservation, outlierMultiple: number): number {
  const scores: Float64Array[] = [];
  let total = 0;
  let count = 0;
  for (const layer of observation.layers) {
    const scaler = layer.statistics.rowScaler;
    if (scaler === undefined) throw new UsageError(`OWL needs the row scaler of ${layer.name}`);
    const score = wandaScore(layer.weight, scaler).data;
    scores.push(score);
    for (const value of score) total += value;
    count += score.length;
  }
  if (count === 0) return 0;

  const limit = (outlierMultiple * total) / count;
  let outliers = 0;
  for (const score of scores) for (const value of score) if (value > limit) outliers++;
  return (100 * outliers) / count;
}

/**
 * OWL: D_l = outlier ratio of block l, D' = (D − min D)/(max D − min D)·2λ,
 * p_l = p − (D'_l − mean D'). More outliers means less pruning, and the mean
 * block sparsity stays p. Equal ratios give a uniform schedule.
 */
export function owlSparsities(ratios: readonly number[], target: number, lambda: number): number[] {
  const min = Math.min(...ratios);
  const max = Math.max(...ratios);
  if (!(max > min)) return ratios.map(() => target);
  const scaled = ratios.map((ratio) => ((ratio - min) / (max - min)) * 2 * lambda);
  const mean = scaled.reduce((sum, value) => sum + value, 0) / scaled.length;
  return scaled.map((value) => Math.min(1, Math.max(0, target - (value - mean))));
}

export function owlSchedule(options: OwlOptions): SparsitySchedule {
  const ratios = new Map<number, number>();
  return {
    name: 'owl',
    needsPrepass: true,
    prepassStatistics: ['rowScaler'],
    observeBlock(observation) {
      ratios.set(observation.block, outlierRatio(observation, options.outlierMultiple));
    },
    blockSparsities(blockCount, target) {
      const list: number[] = [];
      for (let block = 0; block < blockCount; block++) {
        const ratio = ratios.get(block);
        if (ratio === undefined) throw new UsageError(`OWL has no outlier ratio for block ${block}; the pre-pass did not observe it`);
        list.push(ratio);
      }
      return owlSparsities(list, target, options.lambda);
    },
  };
}
