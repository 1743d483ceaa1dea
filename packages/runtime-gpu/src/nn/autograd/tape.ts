/**
 * A small reverse-mode autograd tape.
 *
 * While a tape records, every nn op records itself, so the tape owns every
 * tensor those ops produce. An op is differentiated only when one of its inputs
 * requires a gradient or comes from a differentiated op. `backward(loss)` walks
 * the tape in reverse from a scalar loss and accumulates gradients of leaf
 * tensors (requiresGrad, not produced by a recorded op) into `.grad`.
 *
 * It frees as it goes. When a node has been processed, its outputs and saved
 * tensors are disposed, because every consumer of those outputs came later on
 * the tape and was processed already. After `backward()` no activation of the
 * step is alive, except the loss and tensors passed to `retain()`.
 */
import { keep } from '../../scope.js';
import type { Tensor } from '../../tensor.js';
import { getGradient, type TapeNode } from './registry.js';
import { addInto, onesLike } from './helpers.js';

export class Tape {
  readonly nodes: TapeNode[] = [];
  readonly #producers = new Set<number>();
  /** Ids of outputs of differentiated nodes. */
  readonly #differentiable = new Set<number>();
  readonly #skipped = new Set<TapeNode>();
  readonly #retained = new Set<number>();
  #finished = false;

  /** Returns whether any input takes part in differentiation. */
  tracks(inputs: readonly Tensor[]): boolean {
    return !this.#finished && inputs.some((tensor) => tensor.requiresGrad || this.#differentiable.has(tensor.id));
  }

  /** Takes ownership of the node's outputs and saved tensors; differentiates it only when it tracks an input. */
  record(node: TapeNode): void {
    const differentiable = this.tracks(node.inputs);
    if (!differentiable) this.#skipped.add(node);
    for (const output of node.outputs) {
      this.#producers.add(output.id);
      if (differentiable) this.#differentiable.add(output.id);
      keep(output);
    }
    for (const tensor of node.saved) keep(tensor);
    this.nodes.push(node);
  }

  /** Keeps a recorded tensor alive through `backward()` (for logging or inspection). */
  retain(tensor: Tensor): void {
    this.#retained.add(tensor.id);
  }

  /** True when `tensor` was produced by an op recorded on this tape. */
  produced(tensor: Tensor): boolean {
    return this.#producers.has(tensor.id);
  }

  /**
   * Backpropagates from `loss`. A scalar loss is seeded with dloss = `seed`
   * (1, or a loss scale); any other output needs `seed` as a tensor of its shape
   * (a vector-Jacobian product; the tape takes ownership of that tensor).
   * A tape runs backward once.
   */
  backward(loss: Tensor, seed: number | Tensor = 1): void {
    if (this.#finished) throw new Error('backward: this tape has already run backward; record a new tape per step');
    if (typeof seed === 'number' && loss.size !== 1) {
      throw new Error(`backward: the loss must be a scalar, got ${loss.describe()}; pass a seed gradient of its shape for a vector-Jacobian product`);
    }
    if (typeof seed !== 'number' && seed.size !== loss.size) throw new Error(`backward: seed ${seed.describe()} does not match ${loss.describe()}`);
    this.#finished = true;
    this.#retained.add(loss.id);

    const grads = new Map<number, Tensor>();
    grads.set(loss.id, typeof seed === 'number' ? onesLike(loss, seed) : seed);

    for (let n = this.nodes.length - 1; n >= 0; n--) {
      const node = this.nodes[n];
      const outputGrads = node.outputs.map((output) => grads.get(output.id) ?? null);

      if (!this.#skipped.has(node) && outputGrads.some((grad) => grad !== null)) {
        const inputGrads = getGradient(node.op)(node, outputGrads);
        node.inputs.forEach((input, i) => {
          const grad = inputGrads[i];
          if (grad === null || grad === undefined) return;
          this.#accumulate(input, grad, grads);
        });
      }

      for (const grad of outputGrads) grad?.dispose();
      for (const output of node.outputs) {
        grads.delete(output.id);
        if (!this.#retained.has(output.id)) output.dispose();
      }
      for (const tensor of node.saved) if (!this.#retained.has(tensor.id)) tensor.dispose();
    }
    this.nodes.length = 0;
    for (const grad of grads.values()) grad.dispose();
  }

  #accumulate(input: Tensor, grad: Tensor, grads: Map<number, Tensor>): void {
    if (this.#differentiable.has(input.id)) {
      const previous = grads.get(input.id);
      grads.set(input.id, previous ? addInto(previous, grad) : grad);
      return;
    }
    if (!input.requiresGrad || this.#producers.has(input.id)) {
      grad.dispose();
      return;
    }
    keep(grad);
    input.grad = input.grad ? keep(addInto(input.grad, grad)) : grad;
  }

  /** Disposes everything still recorded without computing gradients (e.g. after an error). */
  discard(): void {
    this.#finished = true;
    for (const node of this.nodes) {
      for (const output of node.outputs) if (!this.#retained.has(output.id)) output.dispose();
      for (const tensor of node.saved) tensor.dispose();
    }
    this.nodes.length = 0;
  }
}

let active: Tape | null = null;

/** Returns the tape ops record on, or null when gradients are off (inference). */
export function activeTape(): Tape | null {
  return active;
}

/**
 * Runs `fn` with a fresh tape active and returns its result with the tape.
 * Call `tape.backward(loss)` afterwards. Nested recording is not supported.
 */
export function recordTape<T>(fn: (tape: Tape) => T): { tape: Tape; result: T } {
  if (active !== null) throw new Error('recordTape: a tape is already recording; nested tapes are not supported');
  const tape = new Tape();
  active = tape;
  try {
    return { tape, result: fn(tape) };
  } catch (error) {
    tape.discard();
    throw error;
  } finally {
    active = null;
  }
}

/** Runs `fn` with recording paused, e.g. for evaluation inside a training step. */
export function noGrad<T>(fn: () => T): T {
  const previous = active;
  active = null;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
