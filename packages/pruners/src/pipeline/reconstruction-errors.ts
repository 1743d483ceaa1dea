/**
 * The re-run of a pruned block: it measures each linear layer's
 * reconstruction error ‖X·ΔWᵀ‖² against ‖X·Wᵀ‖² (W the dense weight,
 * ΔW = W − Ŵ, X the layer's input in the pruned block) and produces the
 * next block's inputs.
 *
 * The products go through a runtime device: the model's device when the
 * blocks run there (inputs never leave it), else the cpu device, whose
 * matmul is onnxruntime's. With E = X·ΔWᵀ and F = X·Ŵᵀ, the error is ‖E‖²
 * and the reference ‖E + F‖², so only ΔW and the pruned Ŵ are needed. ΔW
 * overwrites the saved dense weights, and on the cpu device both matrices are
 * wrapped without a copy, so the pass adds no weight memory on the host.
 */
import { add, columnSumSquares, getCpuDevice, keep, matmul, scope, type Device, type Tensor } from '@sculpt/runtime-gpu';
import { wrapHostArray } from '../algorithms/host-tensors.js';
import type { BlockPass } from './model.js';

export interface LayerError {
  /** ‖X·ΔWᵀ‖²_F summed over the sequences. */
  error: number;
  /** ‖X·Wᵀ‖²_F summed over the sequences. */
  reference: number;
}

/** Per-output-feature sums of one layer on the device, replaced by a new tensor on every add. */
interface ErrorSums {
  prunedWeight: Tensor;
  deltaWeight: Tensor;
  error?: Tensor;
  reference?: Tensor;
}

/**
 * Re-runs the pruned block over every sequence and returns each layer's
 * error. `denseWeights` is overwritten with ΔW = W − Ŵ. With `forwardOnDevice`
 * the block runs on `device` (the model's);
 * otherwise it runs on the host and the products go to the cpu device. With
 * `replaceStates`, each sequence's output replaces its entry in `pass.states`
 * as soon as it exists.
 */
export async function runWithErrors(
  pass: BlockPass,
  denseWeights: Map<string, Float32Array>,
  options: { device: Device | undefined; forwardOnDevice: boolean; replaceStates: boolean },
): Promise<Map<string, LayerError>> {
  const { model, index, states, linears } = pass;
  const device = options.forwardOnDevice && options.device !== undefined ? options.device : getCpuDevice();
  const sums = new Map<string, ErrorSums>();
  try {
    for (const [name, layer] of linears) {
      const delta = denseWeights.get(name)!;
      const pruned = layer.getWeight();
      for (let i = 0; i < delta.length; i++) delta[i] -= pruned[i];
      const shape = [layer.outFeatures, layer.inFeatures];
      sums.set(name, { prunedWeight: wrapHostArray(device, pruned, shape), deltaWeight: wrapHostArray(device, delta, shape) });
    }

    const addInput = (name: string, input: Tensor): void => {
      const entry = sums.get(name);
      if (entry === undefined) return;
      const error = matmul(input, entry.deltaWeight, { transB: true });
      entry.error = accumulate(entry.error, columnSumSquares(error));
      entry.reference = accumulate(entry.reference, columnSumSquares(add(error, matmul(input, entry.prunedWeight, { transB: true }))));
    };

    for (let s = 0; s < states.length; s++) {
      const state = states[s];
      const hooks = options.forwardOnDevice
        ? { onDeviceLinearInput: addInput }
        : {
            onLinearInput: (name: string, input: Float32Array, rows: number) => {
              const layer = linears.get(name);
              if (layer === undefined) return;
              // The tensor is a copy, because the block may reuse `input` after the hook returns. The
              // scope frees it and the products once they are summed.
              scope(() => addInput(name, device.tensor(input, [rows, layer.inFeatures])));
            },
          };
      const hidden = await model.runBlock(index, state.hidden, state.rows, state.positions, { keyMask: state.keyMask, ...hooks });
      if (options.replaceStates) states[s] = { ...state, hidden };
    }

    const errors = new Map<string, LayerError>();
    for (const [name, entry] of sums) errors.set(name, { error: await total(entry.error), reference: await total(entry.reference) });
    return errors;
  } finally {
    for (const entry of sums.values()) {
      entry.prunedWeight.dispose();
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
