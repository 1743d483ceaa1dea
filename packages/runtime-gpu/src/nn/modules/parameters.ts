/**
 * Named parameter storage shared by the modules. Parameters are f32 tensors
 * addressed by dotted names (`attn.q.weight`). Replacing one disposes the old
 * tensor; this is how pruning writes new weights into a built block.
 */
import type { Device } from '../../device.js';
import { ShapeError } from '../../errors.js';
import { shapesEqual } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Random } from '@sculpt/core';

export class ParameterStore {
  readonly #tensors = new Map<string, Tensor>();

  constructor(readonly device: Device) {}

  /** Creates a parameter filled from `init`: normal(0, std) draws or a constant. */
  create(name: string, shape: number[], init: { std: number; random: Random } | { value: number }): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if ('value' in init) data.fill(init.value);
    else for (let i = 0; i < size; i++) data[i] = init.random.normal() * init.std;
    const tensor = this.device.tensor(data, shape, 'f32');
    this.#tensors.set(name, tensor);
    return tensor;
  }

  get(name: string): Tensor {
    const tensor = this.#tensors.get(name);
    if (tensor === undefined) {
      throw new Error(`Parameter '${name}' not found; known: ${[...this.#tensors.keys()].join(', ')}`);
    }
    return tensor;
  }

  has(name: string): boolean {
    return this.#tensors.has(name);
  }

  /** Replaces a parameter with a tensor of the same shape (values copied when given as an array). */
  set(name: string, value: Tensor | Float32Array): void {
    const old = this.get(name);
    const tensor = value instanceof Float32Array ? this.device.tensor(value, old.shape, 'f32') : value;
    if (!shapesEqual(tensor.shape, old.shape)) {
      throw new ShapeError(`Parameter '${name}' has shape [${old.shape.join(', ')}]; the replacement is ${tensor.describe()}; pass values of the same shape`);
    }
    if (tensor.device !== this.device) throw new ShapeError(`Parameter '${name}' lives on ${this.device.kind}; the replacement is on ${tensor.device.kind}`);
    tensor.requiresGrad = old.requiresGrad;
    if (tensor !== old) old.dispose();
    this.#tensors.set(name, tensor);
  }

  entries(): [string, Tensor][] {
    return [...this.#tensors.entries()];
  }

  dispose(): void {
    for (const tensor of this.#tensors.values()) {
      tensor.grad?.dispose();
      tensor.dispose();
    }
    this.#tensors.clear();
  }
}
