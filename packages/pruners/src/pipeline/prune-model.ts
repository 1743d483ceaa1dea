/**
 * The block-sequential pruning loop of Wanda and SparseGPT:
 *
 * 1. embed every calibration sequence (block 0's inputs);
 * 2. for each decoder block: run the dense block on all sequences with hooks
 *    on every linear input to collect statistics, prune every linear layer,
 *    then re-run the pruned block so the next block receives pruned outputs
 *    (error propagation; with it off the next block gets the dense outputs);
 * 3. report per-layer and overall sparsity.
 *
 * With `trueSequential`, each block is pruned in groups of layers that share
 * an input (q,k,v → o → gate,up → down for Llama), re-collecting statistics
 * after each group. A schedule with a pre-pass (OWL) first runs the whole
 * model densely. Embeddings, norms and the output head are never pruned.
 *
 * Modes: `faithful` counts padding in the statistics as the reference does;
 * `clean` leaves positions with mask 0 out. Both give attention the
 * sequence's mask.
 */
import { InputError, UsageError, getLogger, throwIfAborted, type Logger } from '@sculpt/core';
import type { Device } from '@sculpt/runtime-gpu';
import type { HessianPrecision } from '../algorithms/collectors.js';
import type { GemmBackend } from '../algorithms/linalg.js';
import { type Matrix } from '../algorithms/matrix.js';
import { uniformSchedule, explicitSchedule } from '../algorithms/schedules.js';
import type { NMPattern } from '../algorithms/selectors.js';
import type { LayerPruneResult, Pruner, PrunerContext, SparsitySchedule, StatisticKind } from '../types.js';
import type { BlockPass, BlockState, CalibrationSequence, PrunableLinear, PrunableModel } from './model.js';
import { runCollectingOnDevice } from './device-passes.js';
import { runWithErrors } from './reconstruction-errors.js';
import { PassCollectors, type CollectorBackend, type LayerCollector } from './statistics.js';

const defaultLog = getLogger('pruners:pipeline');

export type PruneMode = 'faithful' | 'clean';

export interface PruneModelOptions {
  pruner: Pruner;
  /** Target sparsity; must be 0.5 with an N:M pattern. */
  sparsity: number;
  pattern?: NMPattern;
  sequences: CalibrationSequence[];
  mode?: PruneMode;
  /** Feed the next block the pruned block's outputs (default true, as the reference). */
  propagateError?: boolean;
  trueSequential?: boolean;
  /** One sparsity per block; overrides a pruner's own schedule. */
  blockSparsities?: number[];
  gemm?: GemmBackend;
  /** Storage of host Hessians: float32 (default, the reference's precision) or float64 for exact comparisons. */
  hessianPrecision?: HessianPrecision;
  /**
   * Runtime device for the statistics (float32 accumulators) and SparseGPT's
   * inverse-Hessian factor. Without one they run on the host. When
   * the model's blocks run on this same device (`model.device`), the block
   * forward passes run there too and the linear inputs never leave it.
   */
  device?: Device;
  logger?: Logger;
  signal?: AbortSignal;
  onBlockDone?: (block: number, blockCount: number) => void;
}

/** Statistics backend of a pass, plus whether the block passes run on the device. */
interface PassBackend extends CollectorBackend {
  forwardOnDevice: boolean;
}

export interface LayerReport {
  name: string;
  block: number;
  outFeatures: number;
  inFeatures: number;
  targetSparsity: number;
  /** Zeros / numel of the weight after pruning. */
  sparsity: number;
  /**
   * ‖X(W − Ŵ)ᵀ‖²_F summed over the calibration tokens, with X the inputs the
   * layer receives in the pruned block, and the same divided by ‖XWᵀ‖²_F.
   */
  reconstructionError: number;
  relativeError: number;
  loss?: number;
  details?: LayerPruneResult['details'];
  seconds: number;
}

export interface PruneReport {
  mode: PruneMode;
  propagateError: boolean;
  trueSequential: boolean;
  schedule: string;
  blockSparsities: number[];
  layers: LayerReport[];
  /** Zeros / numel over every linear layer of every block. */
  actualSparsity: number;
  sequences: number;
  seconds: number;
}

export async function pruneModel(model: PrunableModel, options: PruneModelOptions): Promise<PruneReport> {
  const log = options.logger ?? defaultLog;
  const started = performance.now();
  const { pruner, pattern } = options;
  const mode = options.mode ?? 'faithful';
  const propagateError = options.propagateError ?? true;
  const trueSequential = options.trueSequential ?? false;
  const blockCount = model.config.nLayers;
  validate(options);

  let states = embedAll(model, options.sequences);
  const schedule = chooseSchedule(options);
  if (schedule.needsPrepass) await runPrepass(model, schedule, states, pruner, mode, options);
  const blockSparsities = schedule.blockSparsities(blockCount, options.sparsity);
  log.info(`pruning ${blockCount} blocks, schedule ${schedule.name}: ${blockSparsities.map((p) => p.toFixed(3)).join(', ')}`);

  const layers: LayerReport[] = [];
  let zeros = 0;
  let total = 0;
  for (let index = 0; index < blockCount; index++) {
    throwIfAborted(options.signal);
    const block = await model.block(index);
    const linears = new Map(block.linearLayers().map((layer) => [layer.name, layer]));
    const denseWeights = new Map([...linears].map(([name, layer]) => [name, Float32Array.from(layer.getWeight())]));

    // Statistics pass on the dense block. Its outputs are kept only when they become the next inputs
    // (errors not propagated), so one copy of the calibration activations is alive otherwise.
    // True-sequential: the first pass collects only the first group (the layers fed first) and finds the groups.
    const pass = { model, index, states, linears };
    const backend = passBackend(model, options);
    const first = await collectStatistics(pass, pruner.statistics, mode, backend, !propagateError, trueSequential ? (_, group) => group === 0 : undefined);
    const denseOutputs = first.outputs;
    const layerGroups = trueSequential ? first.collectors.groups : [[...linears.keys()]];

    // Only the loss and details of each result are kept, not its float64 weight and mask.
    const timings = new Map<string, { seconds: number; result: Pick<LayerPruneResult, 'loss' | 'details'> }>();
    for (let g = 0; g < layerGroups.length; g++) {
      const members = new Set(layerGroups[g]);
      const collected = g === 0 ? first.collectors : (await collectStatistics(pass, pruner.statistics, mode, backend, false, (name) => members.has(name))).collectors;
      for (const name of layerGroups[g]) {
        const layer = linears.get(name)!;
        const layerStarted = performance.now();
        const result = await pruneOne(pruner, layer, index, collected.get(name)!.result(), blockSparsities[index], pattern, {
          logger: log,
          signal: options.signal,
          gemm: options.gemm,
          device: options.device,
        });
        timings.set(name, { seconds: (performance.now() - layerStarted) / 1000, result: { loss: result.loss, details: result.details } });

        // Frees the layer's statistics (a Hessian is in² values) once no layer of its group needs them.
        collected.release(name);
      }
      collected.releaseAll();
    }

    // Re-run the pruned block: measures each layer's reconstruction error and gives the next inputs.
    // With errors propagated, each sequence's pruned output replaces its input in `states` as soon as it exists.
    const errors = await runWithErrors({ model, index, states, linears }, denseWeights, {
      device: backend.device,
      forwardOnDevice: backend.forwardOnDevice,
      replaceStates: propagateError,
    });
    if (!propagateError) states = denseOutputs;
    // Frees the block's device copy; pruned host weights stay for saving.
    model.release(index);

    for (const [name, layer] of linears) {
      const { seconds, result } = timings.get(name)!;
      const weight = layer.getWeight();
      let layerZeros = 0;
      for (const value of weight) if (value === 0) layerZeros++;
      zeros += layerZeros;
      total += weight.length;
      const error = errors.get(name) ?? { error: 0, reference: 0 };
      layers.push({
        name: `layers.${index}.${name}`,
        block: index,
        outFeatures: layer.outFeatures,
        inFeatures: layer.inFeatures,
        targetSparsity: blockSparsities[index],
        sparsity: layerZeros / weight.length,
        reconstructionError: error.error,
        relativeError: error.reference > 0 ? error.error / error.reference : 0,
        loss: result.loss,
        details: result.details,
        seconds,
      });
    }
    log.info(() => `block ${index + 1}/${blockCount} pruned`);
    options.onBlockDone?.(index, blockCount);
  }

  return {
    mode,
    propagateError,
    trueSequential,
    schedule: schedule.name,
    blockSparsities,
    layers,
    actualSparsity: total === 0 ? 0 : zeros / total,
    sequences: options.sequences.length,
    seconds: (performance.now() - started) / 1000,
  };
}

function passBackend(model: PrunableModel, options: PruneModelOptions): PassBackend {
  const forwardOnDevice = options.device !== undefined && model.device === options.device;
  return { gemm: options.gemm, device: options.device, hessianPrecision: options.hessianPrecision, forwardOnDevice };
}

function validate(options: PruneModelOptions): void {
  const { sparsity, pattern, pruner } = options;
  if (!(sparsity >= 0 && sparsity <= 1)) throw new UsageError(`sparsity must be between 0 and 1, got ${sparsity}`);
  if (pattern !== undefined) {
    if (sparsity !== 0.5) throw new UsageError(`an N:M pattern fixes the sparsity at 0.5; got --sparsity ${sparsity} with ${pattern.n}:${pattern.m}`);
    if (pattern.n * 2 !== pattern.m) throw new UsageError(`N:M pattern ${pattern.n}:${pattern.m} is not 50% sparse; use 2:4 or 4:8`);
    if (!pruner.supportsPattern) throw new UsageError('this pruning method does not support N:M patterns');
  }
  const needsData = pruner.statistics.length > 0 || pruner.schedule?.needsPrepass === true;
  if (needsData && options.sequences.length === 0) throw new UsageError('this pruning method needs calibration data; pass --calibration or --calibration-tokens');
}

function chooseSchedule(options: PruneModelOptions): SparsitySchedule {
  if (options.blockSparsities !== undefined) return explicitSchedule(options.blockSparsities);
  return options.pruner.schedule ?? uniformSchedule();
}

function embedAll(model: PrunableModel, sequences: CalibrationSequence[]): BlockState[] {
  return sequences.map((sequence, index) => {
    const rows = sequence.tokens.length;
    const keyMask = sequence.mask ?? new Uint8Array(rows).fill(1);
    if (keyMask.length !== rows) throw new InputError(`calibration sequence ${index} has ${rows} tokens but a mask of ${keyMask.length}`);
    const positions = Int32Array.from({ length: rows }, (_, t) => t);
    return { hidden: model.embed(sequence.tokens, positions), rows, positions, keyMask };
  });
}

/**
 * Runs block `index` over every sequence, feeding each linear input to its
 * collector; layers that share an input share a collector. `selected` limits
 * the layers collected (by name and group index), and the collectors also
 * record the groups.
 */
async function collectStatistics(
  pass: BlockPass,
  kinds: readonly StatisticKind[],
  mode: PruneMode,
  backend: PassBackend,
  keepOutputs: boolean,
  selected?: (name: string, group: number) => boolean,
): Promise<{ collectors: PassCollectors; outputs: BlockState[] }> {
  const collectors = new PassCollectors((name) => pass.linears.get(name)!.inFeatures, kinds, backend, selected);
  try {
    const outputs = backend.forwardOnDevice
      ? await runCollectingOnDevice(pass, kinds, mode === 'clean', collectors, keepOutputs)
      : await runCollecting(pass, kinds, mode, collectors, keepOutputs);
    collectors.coverUnseen([...pass.linears.keys()]);
    await collectors.finish();
    return { collectors, outputs };
  } catch (error) {
    // Device accumulators hold GPU buffers; a failed pass must not leak them.
    collectors.releaseAll();
    throw error;
  }
}

async function runCollecting(
  { model, index, states, linears }: BlockPass,
  kinds: readonly StatisticKind[],
  mode: PruneMode,
  collectors: PassCollectors,
  keepOutputs: boolean,
): Promise<BlockState[]> {
  // Updates of one collector run in order; an asynchronous gemm must finish one sequence before the next decays H.
  const chains = new Map<LayerCollector, Promise<void>>();
  const outputs: BlockState[] = [];
  for (let s = 0; s < states.length; s++) {
    const state = states[s];
    const tokenMask = mode === 'clean' ? state.keyMask : undefined;
    collectors.startSequence();
    const hidden = await model.runBlock(index, state.hidden, state.rows, state.positions, {
      keyMask: state.keyMask,
      onLinearInput: (name, input, rows) => {
        const collector = collectors.route(name, input, s === 0);
        if (collector === undefined) return;
        if (kinds.length === 0) {
          collector.sequences += 1;
          return;
        }
        const copy = Float32Array.from(input);
        const features = linears.get(name)!.inFeatures;
        chains.set(collector, (chains.get(collector) ?? Promise.resolve()).then(() => collector.add(copy, rows, features, tokenMask)));
      },
    });
    if (keepOutputs) outputs.push({ ...state, hidden });
  }
  await Promise.all(chains.values());
  return outputs;
}

async function pruneOne(
  pruner: Pruner,
  layer: PrunableLinear,
  block: number,
  statistics: ReturnType<LayerCollector['result']>,
  sparsity: number,
  pattern: NMPattern | undefined,
  context: PrunerContext,
): Promise<LayerPruneResult> {
  const weight: Matrix<Float64Array> = { rows: layer.outFeatures, cols: layer.inFeatures, data: Float64Array.from(layer.getWeight()) };
  const name = `layers.${block}.${layer.name}`;
  const result = await pruner.pruneLayer({ name, block, weight, statistics, sparsity, pattern }, context);
  checkResult(result, layer, name);

  const pruned = Float32Array.from(result.weight.data);
  for (let i = 0; i < pruned.length; i++) if (result.mask.data[i]) pruned[i] = 0;
  layer.setWeight(pruned);
  return result;
}

/** Rejects a pruner result of the wrong shape, the usual mistake of a new plugin. */
function checkResult(result: LayerPruneResult, layer: PrunableLinear, name: string): void {
  const expected = layer.outFeatures * layer.inFeatures;
  if (result.weight.rows !== layer.outFeatures || result.weight.cols !== layer.inFeatures || result.weight.data.length !== expected) {
    throw new InputError(`pruner returned a ${result.weight.rows}×${result.weight.cols} weight for ${name}, which is ${layer.outFeatures}×${layer.inFeatures}`);
  }
  if (result.mask.data.length !== expected) {
    throw new InputError(`pruner returned a mask of ${result.mask.data.length} entries for ${name}, expected ${expected}`);
  }
}

/** Runs every block densely, showing each block's statistics to the schedule (OWL's pass 1). */
async function runPrepass(
  model: PrunableModel,
  schedule: SparsitySchedule,
  initial: BlockState[],
  pruner: Pruner,
  mode: PruneMode,
  options: PruneModelOptions,
): Promise<void> {
  const kinds = schedule.prepassStatistics ?? pruner.statistics;
  let states = initial;
  for (let index = 0; index < model.config.nLayers; index++) {
    throwIfAborted(options.signal);
    const block = await model.block(index);
    const linears = new Map(block.linearLayers().map((layer) => [layer.name, layer]));
    const { collectors, outputs } = await collectStatistics({ model, index, states, linears }, kinds, mode, passBackend(model, options), true);
    schedule.observeBlock?.({
      block: index,
      layers: [...linears].map(([name, layer]) => ({
        name: `layers.${index}.${name}`,
        weight: { rows: layer.outFeatures, cols: layer.inFeatures, data: layer.getWeight() },
        statistics: collectors.get(name)!.result(),
      })),
    });
    collectors.releaseAll();
    states = outputs;
    model.release(index);
  }
}
