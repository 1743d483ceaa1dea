/**
 * The cpu device: tensors are host TypedArrays. Matmul-class kernels run
 * through onnxruntime-node (see ort-sessions.ts); everything else is plain TS.
 *
 * Work is queued like on a GPU: a kernel validates its inputs at once, then
 * `enqueue` chains the computation behind the inputs' pending results, so
 * ops return tensors synchronously even though onnxruntime is async.
 */
import os from 'node:os';
import { allocateStorage, toStorage, type DType, type StorageArray } from '../dtype.js';
import type { Device, DeviceInfo, DeviceLimits } from '../device.js';
import { DisposedError } from '../errors.js';
import { assertValidShape, shapeSize, type Shape } from '../shape.js';
import { Tensor, type TensorStorage } from '../tensor.js';
import { OrtSessionCache } from './ort-sessions.js';

/** Host storage of a cpu tensor: the array once computed, and the promise of it. */
export class CpuStorage implements TensorStorage {
  data: StorageArray | null;
  pending: Promise<StorageArray>;

  constructor(data: StorageArray | Promise<StorageArray>) {
    if (data instanceof Promise) {
      this.data = null;
      this.pending = data.then((value) => {
        this.data = value;
        return value;
      });
      // A failure is reported by read()/sync(); this handler only prevents an unhandled rejection.
      this.pending.catch(() => undefined);
    } else {
      this.data = data;
      this.pending = Promise.resolve(data);
    }
  }

  release(): void {
    this.data = null;
  }
}

export interface OutputSpec {
  shape: Shape;
  dtype: DType;
}

/** Computes output arrays from input arrays; may be async (onnxruntime). */
export type CpuCompute = (inputs: StorageArray[]) => StorageArray[] | Promise<StorageArray[]>;

const HOST_LIMIT = 2 ** 32;

export class CpuDevice implements Device {
  readonly kind = 'cpu' as const;
  readonly info: DeviceInfo;
  readonly limits: DeviceLimits = {
    maxStorageBufferBindingSize: HOST_LIMIT,
    maxBufferSize: HOST_LIMIT,
    maxComputeWorkgroupStorageSize: 0,
    maxComputeInvocationsPerWorkgroup: 1,
    maxComputeWorkgroupSizeX: 1,
    maxComputeWorkgroupSizeY: 1,
    maxComputeWorkgroupSizeZ: 1,
    maxComputeWorkgroupsPerDimension: HOST_LIMIT,
    maxStorageBuffersPerShaderStage: Number.MAX_SAFE_INTEGER,
    subgroupMinSize: 0,
    subgroupMaxSize: 0,
  };
  readonly features: ReadonlySet<string> = new Set(['f64-linalg', 'onnxruntime-cpu']);
  readonly sessions: OrtSessionCache;
  #disposed = false;
  #inFlight = new Set<Promise<unknown>>();
  #firstError: unknown = null;

  constructor(options: { threads?: number } = {}) {
    const cpus = os.cpus();
    this.info = {
      name: cpus[0]?.model.trim() ?? 'unknown CPU',
      vendor: os.arch(),
      architecture: os.arch(),
      description: `${cpus.length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, onnxruntime-node CPU execution provider`,
      isFallbackAdapter: false,
    };
    this.sessions = new OrtSessionCache(options.threads ?? 2);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  supportsDType(_dtype: DType): boolean {
    return true;
  }

  tensor(data: ArrayLike<number>, shape: Shape, dtype: DType = 'f32'): Tensor {
    this.#assertLive('tensor');
    assertValidShape(shape, 'cpu.tensor');
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new RangeError(`cpu.tensor: ${data.length} values do not fill shape [${shape.join(', ')}] (${size} elements)`);
    }
    // Always copy, so later changes to the caller's array do not reach the tensor.
    const storage = toStorage(data, dtype);
    return new Tensor(this, shape, dtype, new CpuStorage(storage === data ? storage.slice() : storage));
  }

  zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
    this.#assertLive('zeros');
    assertValidShape(shape, 'cpu.zeros');
    return new Tensor(this, shape, dtype, new CpuStorage(allocateStorage(dtype, shapeSize(shape))));
  }

  /** Wraps an array without copying; the caller gives up ownership of it. */
  adopt(data: StorageArray, shape: Shape, dtype: DType): Tensor {
    return new Tensor(this, shape, dtype, new CpuStorage(data));
  }

  /**
   * Queues `compute` after the inputs are ready and returns the output
   * tensors at once. Runs synchronously when every input is already computed
   * and `compute` is synchronous.
   */
  enqueue(op: string, inputs: readonly Tensor[], outputs: readonly OutputSpec[], compute: CpuCompute): Tensor[] {
    this.#assertLive(op);
    const storages = inputs.map((tensor) => tensor.storage<CpuStorage>(op));
    const ready = storages.every((storage) => storage.data !== null);

    let result: StorageArray[] | Promise<StorageArray[]>;
    if (ready) {
      try {
        result = compute(storages.map((storage) => storage.data!));
      } catch (error) {
        result = Promise.reject(wrapError(op, error));
      }
    } else {
      result = Promise.all(storages.map((storage) => storage.pending)).then(compute);
    }

    if (result instanceof Promise) {
      const settled = result.catch((error: unknown) => {
        const wrapped = wrapError(op, error);
        this.#firstError ??= wrapped;
        throw wrapped;
      });
      settled.catch(() => undefined);
      this.#inFlight.add(settled);
      void settled.finally(() => this.#inFlight.delete(settled)).catch(() => undefined);
      return outputs.map(
        (spec, index) => new Tensor(this, spec.shape, spec.dtype, new CpuStorage(settled.then((arrays) => arrays[index]))),
      );
    }

    return outputs.map((spec, index) => new Tensor(this, spec.shape, spec.dtype, new CpuStorage(result[index])));
  }

  async readStorage(tensor: Tensor): Promise<StorageArray> {
    const storage = tensor.storage<CpuStorage>('read');
    const data = storage.data ?? (await storage.pending);
    return data.slice();
  }

  /**
   * Returns the tensor's own array, without the copy `read()` makes. It stays
   * valid until the tensor is disposed, and the caller must not write to it.
   * Meant for hot loops that consume a product once, such as SparseGPT's lazy
   * batch updates.
   */
  async readShared(tensor: Tensor): Promise<StorageArray> {
    const storage = tensor.storage<CpuStorage>('readShared');
    return storage.data ?? (await storage.pending);
  }

  async sync(): Promise<void> {
    while (this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#inFlight]);
    }
    if (this.#firstError !== null) {
      const error = this.#firstError;
      this.#firstError = null;
      throw error;
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.sessions.dispose();
  }

  #assertLive(op: string): void {
    if (this.#disposed) throw new DisposedError(`${op}: the cpu device was disposed`);
  }
}

function wrapError(op: string, error: unknown): Error {
  if (error instanceof Error && error.message.startsWith(`${op}:`)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new Error(`${op}: ${message}`, { cause: error });
  if (error instanceof Error) wrapped.name = error.name;
  return wrapped;
}

/** Narrows a Device to CpuDevice; kernels registered for 'cpu' receive only these. */
export function asCpuDevice(device: Device): CpuDevice {
  return device as CpuDevice;
}
