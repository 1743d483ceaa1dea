/**
 * The statistics pass of the pruning loop when the model's blocks run on a
 * device (`CausalLM.useDevice`). The linear inputs stay on the device. Inside
 * the forward pass, each one is fed to the device accumulators (Wanda's
 * column sums of squares, SparseGPT's Hessian). Only the block outputs and
 * the finished statistics are read back. The error re-run is in
 * reconstruction-errors.ts.
 */
import type { StatisticKind } from '../types.js';
import type { BlockPass, BlockState } from './model.js';
import type { PassCollectors } from './statistics.js';

/**
 * Runs block `index` on the device over every sequence, feeding each linear
 * input to its collector on the device; `collectors` records the groups.
 * `tokenMask` (clean mode) zeroes padding rows, which then add nothing to
 * either statistic. The block outputs are returned only with `keepOutputs`.
 */
export async function runCollectingOnDevice(
  { model, index, states }: BlockPass,
  kinds: readonly StatisticKind[],
  cleanMode: boolean,
  collectors: PassCollectors,
  keepOutputs: boolean,
): Promise<BlockState[]> {
  const outputs: BlockState[] = [];
  for (let s = 0; s < states.length; s++) {
    const state = states[s];
    const tokenMask = cleanMode ? state.keyMask : undefined;
    collectors.startSequence();
    const hidden = await model.runBlock(index, state.hidden, state.rows, state.positions, {
      keyMask: state.keyMask,
      onDeviceLinearInput: (name, input) => {
        const collector = collectors.route(name, input, s === 0);
        if (collector === undefined) return;
        if (kinds.length > 0) collector.addOnDevice(input, tokenMask);
        else collector.sequences += 1;
      },
    });
    if (keepOutputs) outputs.push({ ...state, hidden });
  }
  return outputs;
}
