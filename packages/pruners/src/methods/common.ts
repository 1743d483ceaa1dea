/** Pieces shared by the built-in methods. */
import { UsageError } from '@sculpt/core';
import { applyMask, type Mask, type Matrix } from '../algorithms/matrix.js';
import { selectNM } from '../algorithms/selectors.js';
import type { LayerPruneResult, LayerStatistics, LayerToPrune, StatisticKind } from '../types.js';

export function requireStatistic<K extends StatisticKind>(layer: LayerToPrune, kind: K): NonNullable<LayerStatistics[K]> {
  const value = layer.statistics[kind];
  if (value === undefined) throw new UsageError(`${layer.name}: the pipeline did not collect the ${kind} statistic this method needs`);
  return value;
}

/** Zeroes the masked entries of the layer's weight copy and returns both. */
export function zeroMasked(layer: LayerToPrune, mask: Mask): LayerPruneResult {
  const weight: Matrix<Float64Array> = layer.weight;
  applyMask(weight, mask);
  return { weight, mask };
}

/** Chooses the mask from scores: N:M when a pattern is set, otherwise the given unstructured selector. */
export function selectMask(layer: LayerToPrune, scores: Matrix, unstructured: (scores: Matrix, sparsity: number) => Mask): Mask {
  if (layer.pattern !== undefined) return selectNM(scores, layer.pattern);
  return unstructured(scores, layer.sparsity);
}
