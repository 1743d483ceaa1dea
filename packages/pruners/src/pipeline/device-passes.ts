/**
 * The statistics pass of the pruning loop when the model's blocks run on a
 * device (`CausalLM.useDevice`). The linear inputs stay on the device. Inside
 * the forward pass, each one is fed to the device accumulators (Wanda's
 * column sums of squares, SparseGPT's Hessian). Only the block outputs and
 * the finished statistics are read back. The error re-run is in
 * reconstruction-errors.ts.
 */
import type { Tensor } from '@sculpt/runtime-gpu';
import type { StatisticKind } from '../types.js';
import type { BlockPass, BlockState } from './model.js';
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
  { model, index, states }: BlockPass,
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
