/**
 * Block passes of the pruning loop when the model's blocks run on a device
 * (`CausalLM.useDevice`). The linear inputs stay on the device. Inside the
 * forward pass, each one is fed to the device accumulators (Wanda's column
 * sums of squares, SparseGPT's Hessian) or to the reconstruction-error
 * products. Only the block outputs, the finished statistics and the error
 * sums are read back.
 */
import { add, columnSumSquares, keep, matmul, type Device, type Tensor } from '@sculpt/runtime-gpu';
import type { StatisticKind } from '../types.js';
import type { BlockState, PrunableLinear, PrunableModel } from './model.js';
import type { LayerCollector } from './statistics.js';

/** Layers whose inputs are the same tensor in the hook form one true-sequential group. */
export type LayerGroups = string[][];

/**
 * Runs block `index` on the device over every sequence, feeding each linear
 * input to its collector on the device, and records which layers shared an
 * input (the groups). `tokenMask` (clean mode) zeroes padding rows, which then
 * add nothing to either statistic. The block outputs are returned only with
 * `keepOutputs`.
 */
export async function runCollectingOnDevice(
  model: PrunableModel,
  index: number,
  states: BlockState[],
  kinds: readonly StatisticKind[],
  cleanMode: boolean,
  collectors: Map<string, LayerCollector>,
  keepOutputs: boolean,
): Promise<{ outputs: BlockState[]; groups: LayerGroups }> {
  const groups: LayerGroups = [];
  const outputs: BlockState[] = [];
  for (let s = 0; s < states.length; s++) {
    const state = states[s];
    const tokenMask = cleanMode ? state.keyMask : undefined;
    let lastInput: Tensor | undefined;
    const hidden = await model.runBlock(index, state.hidden, state.rows, state.positions, {
      keyMask: state.keyMask,
      onDeviceLinearInput: (name, input) => {
        const collector = collectors.get(name);
        if (collector === undefined) return;
        if (kinds.length > 0) collector.addOnDevice(input, tokenMask);
        else collector.sequences += 1;

        if (s === 0) {
          if (input === lastInput) groups[groups.length - 1].push(name);
          else groups.push([name]);
          lastInput = input;
        }
      },
    });
    if (keepOutputs) outputs.push({ ...state, hidden });
  }
  return { outputs, groups };
}

/** Per-output-feature sums on the device, replaced by a new tensor on every add. */
interface ErrorSums {
  denseWeight: Tensor;
  deltaWeight: Tensor;
  error?: Tensor;
  reference?: Tensor;
}

/**
 * Re-runs a pruned block on the device and accumulates ‖X·ΔWᵀ‖² and ‖X·Wᵀ‖²
 * for every linear layer from its device input, with W the dense weight and
 * ΔW = W − Ŵ. With `replaceStates`, each sequence's output replaces its entry
 * in `states`. Both matrices of each layer are uploaded for the pass (two
 * blocks' worth of device memory) and freed afterwards.
 */
export async function runWithErrorsOnDevice(
  model: PrunableModel,
  device: Device,
  index: number,
  states: BlockState[],
  linears: Map<string, PrunableLinear>,
  denseWeights: Map<string, Float32Array>,
  errors: Map<string, { error: number; reference: number }>,
  replaceStates: boolean,
): Promise<void> {
  const sums = new Map<string, ErrorSums>();
  try {
    for (const [name, layer] of linears) {
      const dense = denseWeights.get(name)!;
      const current = layer.getWeight();
      const delta = new Float32Array(dense.length);
      for (let i = 0; i < dense.length; i++) delta[i] = dense[i] - current[i];
      const shape = [layer.outFeatures, layer.inFeatures];
      sums.set(name, { denseWeight: device.tensor(dense, shape), deltaWeight: device.tensor(delta, shape) });
    }

    for (let s = 0; s < states.length; s++) {
      const state = states[s];
      const hidden = await model.runBlock(index, state.hidden, state.rows, state.positions, {
        keyMask: state.keyMask,
        onDeviceLinearInput: (name, input) => {
          const entry = sums.get(name);
          if (entry === undefined) return;
          entry.error = accumulate(entry.error, columnSumSquares(matmul(input, entry.deltaWeight, { transB: true })));
          entry.reference = accumulate(entry.reference, columnSumSquares(matmul(input, entry.denseWeight, { transB: true })));
        },
      });
      if (replaceStates) states[s] = { ...state, hidden };
    }

    for (const [name, entry] of sums) errors.set(name, { error: await total(entry.error), reference: await total(entry.reference) });
  } finally {
    for (const entry of sums.values()) {
      entry.denseWeight.dispose();
      entry.deltaWeight.dispose();
      entry.error?.dispose();
      entry.reference?.dispose();
    }
  }
}

/** Adds `update` to the running sum, keeping the result beyond the forward pass's scope. */
function accumulate(sum: Tensor | undefined, update: Tensor): Tensor {
  if (sum === undefined) return keep(update);
  const next = keep(add(sum, update));
  sum.dispose();
  return next;
}

/** Reads a per-feature sum back and adds it up in float64. */
async function total(sum: Tensor | undefined): Promise<number> {
  if (sum === undefined) return 0;
  let value = 0;
  for (const x of await sum.read()) value += x;
  return value;
}
