/**
 * The pruner plugin API: what a pruning method implements, including a
 * third-party one loaded with `--plugin`.
 *
 * A plugin is `definePlugin({ meta: { kind: 'pruner', name, version,
 * description, options: zodSchema }, create(options, context) })` and
 * `create` returns a `Pruner`. The pipeline then runs the model block by
 * block: it collects the statistics the pruner lists in `statistics` from
 * every linear layer's inputs over all calibration sequences, takes this
 * block's sparsity from the schedule (if any), and calls `pruneLayer` once per
 * linear layer with the dense weight and its statistics. The pruner returns
 * the new weight and its mask; the pipeline writes the weight back, re-runs
 * the block to feed the next one, and reports sparsity and reconstruction
 * error. Embeddings, norms and the output head are never offered.
 *
 * Weights and statistics are plain row-major typed arrays (`Matrix`): a
 * linear layer's weight is `C_out × C_in` with `y = x·Wᵀ`. A mask uses 1 for
 * pruned. Weights arrive as float64 copies, so a pruner may modify them.
 */
import type { Logger } from '@sculpt/core';
import type { Device } from '@sculpt/runtime-gpu';
import type { GemmBackend } from './algorithms/linalg.js';
import type { Mask, Matrix } from './algorithms/matrix.js';
import type { NMPattern } from './algorithms/selectors.js';

export type { Mask, Matrix } from './algorithms/matrix.js';
export type { NMPattern } from './algorithms/selectors.js';

/** Activation statistics a pruner can ask for. */
export type StatisticKind =
  /** Wanda's per-input running mean of squared activations, length C_in. */
  | 'rowScaler'
  /** SparseGPT's H = (2/N)·XᵀX, `C_in × C_in`, row-major. */
  | 'hessian';

export interface LayerStatistics {
  rowScaler?: Float64Array;
  /** H = (2/N)·XᵀX, float32 by default (the reference's precision), float64 when the run sets it. */
  hessian?: Float32Array | Float64Array;
  /** Calibration sequences seen (the statistics' normaliser N). */
  sequences: number;
  /** Token positions counted; fewer than sequences × seqlen in clean mode with padding. */
  tokens: number;
}

/** One linear layer offered for pruning. */
export interface LayerToPrune {
  /** Stable name such as `layers.3.mlp.down`; the model format decides the spelling. */
  name: string;
  /** Index of the decoder block that contains the layer. */
  block: number;
  /** A float64 copy of the dense weight, `C_out × C_in`; the pruner may overwrite it. */
  weight: Matrix<Float64Array>;
  /** Read only: layers that share an input (q, k, v; gate, up) are given the same arrays. */
  statistics: LayerStatistics;
  /** Fraction to prune in this layer, after the schedule. */
  sparsity: number;
  /** Set when the run requests N:M sparsity; `sparsity` is then 0.5. */
  pattern?: NMPattern;
}

export interface LayerPruneResult {
  /** The pruned (and possibly updated) weight; zero wherever `mask` is 1. */
  weight: Matrix;
  mask: Mask;
  /** The method's own error measure (SparseGPT: Σ OBS saliency), if it has one. */
  loss?: number;
  /** Anything worth recording in the run report (e.g. the α of Wanda's variant). */
  details?: Record<string, number | string | boolean | null>;
}

/** A statistics-only view of one dense block, given to schedules that need a pre-pass. */
export interface BlockObservation {
  block: number;
  layers: { name: string; weight: Matrix; statistics: LayerStatistics }[];
}

/**
 * Chooses the sparsity of every block. With `needsPrepass`, the pipeline first
 * runs the whole model densely (nothing pruned) and calls `observeBlock` for
 * each block before asking for `blockSparsities`.
 */
export interface SparsitySchedule {
  readonly name: string;
  readonly needsPrepass: boolean;
  /** Statistics the pre-pass must collect (defaults to the pruner's own). */
  readonly prepassStatistics?: readonly StatisticKind[];
  observeBlock?(observation: BlockObservation): void;
  blockSparsities(blockCount: number, target: number): number[];
}

export interface PrunerContext {
  logger: Logger;
  signal?: AbortSignal;
  /** Matrix-product backend for large layers (onnxruntime on the CPU device); the f64 loop when absent. */
  gemm?: GemmBackend;
  /** Runtime device for factorizations (SparseGPT's inverse-Hessian factor); float64 on the host when absent. */
  device?: Device;
}

/** A pruning method instance, created by a `pruner` plugin from its options. */
export interface Pruner {
  /** Statistics the pipeline must collect for every layer; empty for data-free methods. */
  readonly statistics: readonly StatisticKind[];
  /** Optional per-block sparsity schedule (OWL); uniform when absent. */
  readonly schedule?: SparsitySchedule;
  /** Whether the method supports N:M patterns. */
  readonly supportsPattern: boolean;
  pruneLayer(layer: LayerToPrune, context: PrunerContext): LayerPruneResult | Promise<LayerPruneResult>;
}

declare module '@sculpt/core' {
  interface PluginInstanceMap {
    pruner: Pruner;
    'eval-task': import('./tasks/tasks.js').EvalTask;
  }
}
