/**
 * Gradient registry, kept apart from the forward kernel registry. A gradient
 * function is keyed by op name only: it is written with device-independent ops
 * (runKernel), so one gradient serves every device.
 */
import type { Tensor } from '../../tensor.js';

/** One recorded op application. */
export interface TapeNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Outputs that later ops may consume and that receive gradients. */
  readonly outputs: readonly Tensor[];
  /** Extra tensors the gradient needs (statistics such as invRms, logsumexp); freed after backward. */
  readonly saved: readonly Tensor[];
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * Computes input gradients from output gradients. `outputGrads[i]` is null when
 * output i received no gradient. Returns one entry per input (null for inputs
 * that need none, such as token ids). Returned tensors are owned by the tape.
 */
export type GradientFunction = (node: TapeNode, outputGrads: readonly (Tensor | null)[]) => (Tensor | null)[];

const gradients = new Map<string, GradientFunction>();

export function registerGradient(op: string, gradient: GradientFunction): void {
  if (gradients.has(op)) throw new Error(`Gradient for op '${op}' is already registered`);
  gradients.set(op, gradient);
}

export function getGradient(op: string): GradientFunction {
  const gradient = gradients.get(op);
  if (gradient === undefined) {
    const known = [...gradients.keys()].sort().join(', ');
    throw new Error(`No gradient registered for op '${op}' (registered: ${known})`);
  }
  return gradient;
}

export function listGradients(): string[] {
  return [...gradients.keys()].sort();
}
