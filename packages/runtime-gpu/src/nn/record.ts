/**
 * Glue between forward kernels and the tape: runs a kernel and records it on
 * the active tape, which then owns its outputs. Outside a tape, tensors saved
 * only for backward are disposed at once.
 */
import { runKernel, type KernelAttrs } from '../kernels/registry.js';
import type { Tensor } from '../tensor.js';
import { activeTape } from './autograd/tape.js';

/**
 * Runs kernel `name` and splits its results into `outputCount` outputs (which
 * receive gradients) followed by saved statistics.
 */
export function runRecorded(
  name: string,
  inputs: readonly Tensor[],
  attrs: KernelAttrs,
  outputCount: number,
  gradientOp = name,
): Tensor[] {
  const results = runKernel(name, inputs, attrs);
  const outputs = results.slice(0, outputCount);
  const saved = results.slice(outputCount);
  finishRecord(gradientOp, inputs, outputs, saved, attrs);
  return outputs;
}

/** Records an op whose outputs were computed by other means (e.g. a foundation op). */
export function finishRecord(
  op: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  saved: readonly Tensor[],
  attrs: KernelAttrs,
): void {
  const tape = activeTape();
  if (tape !== null) {
    tape.record({ op, inputs: [...inputs], outputs: [...outputs], saved: [...saved], attrs });
    return;
  }
  for (const tensor of saved) tensor.dispose();
}
