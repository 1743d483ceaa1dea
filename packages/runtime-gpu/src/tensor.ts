/**
 * Tensor: an immutable n-dimensional array living on one device.
 *
 * Contract:
 * - Ops never modify their inputs; they return new tensors. The only
 *   exceptions are accumulators that document it (e.g. the Hessian update).
 * - `dispose()` frees the storage at once (webgpu recycles the buffer after
 *   queued work that uses it has been submitted). Using a disposed tensor
 *   raises DisposedError naming the tensor.
 * - Tensors created inside `scope(fn)` are disposed when the scope ends,
 *   unless they are part of its return value (see scope.ts).
 * - `requiresGrad` and `grad` are fields for autograd; the runtime itself
 *   never reads them.
 */
import type { Device } from './device.js';
import { storageToValues, type DType, type StorageArray, type ValueArray } from './dtype.js';
import { DisposedError } from './errors.js';
import { trackTensor } from './scope.js';
import { formatShape, shapeSize, type Shape } from './shape.js';

/** Device-specific memory behind a tensor; only its device interprets it. */
export interface TensorStorage {
  /** Frees or recycles the memory. Called once, by `Tensor.dispose()`. */
  release(): void;
}

let nextTensorId = 1;

export class Tensor {
  readonly id = nextTensorId++;
  readonly shape: Shape;
  readonly size: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  #storage: TensorStorage | null;

  constructor(
    readonly device: Device,
    shape: Shape,
    readonly dtype: DType,
    storage: TensorStorage,
  ) {
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this.#storage = storage;
    trackTensor(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.#storage === null;
  }

  /** The device storage; raises DisposedError after `dispose()`. `op` names the caller in the message. */
  storage<S extends TensorStorage = TensorStorage>(op = 'access'): S {
    if (this.#storage === null) {
      throw new DisposedError(`${op}: ${this.describe()} was used after dispose()`);
    }
    if (this.device.disposed) {
      throw new DisposedError(`${op}: ${this.describe()} belongs to a disposed ${this.device.kind} device`);
    }
    return this.#storage as S;
  }

  /** Reads the values to the host; f16 is widened to a Float32Array. */
  async read(): Promise<ValueArray> {
    const storage = await this.device.readStorage(this);
    return storageToValues(storage, this.dtype);
  }

  /** Reads the exact storage (f16 as Uint16Array bit patterns). */
  readStorage(): Promise<StorageArray> {
    return this.device.readStorage(this);
  }

  dispose(): void {
    if (this.#storage === null) return;
    const storage = this.#storage;
    this.#storage = null;
    storage.release();
  }

  /** Short description for error messages, e.g. `f32 tensor #12 [4, 8] on webgpu`. */
  describe(): string {
    return `${this.dtype} tensor #${this.id} ${formatShape(this.shape)} on ${this.device.kind}`;
  }

  toString(): string {
    return this.describe();
  }
}
