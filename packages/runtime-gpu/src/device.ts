/**
 * The Device contract. A device owns tensor memory and runs kernels; every
 * op dispatches on the device of its inputs (see kernels/registry.ts).
 *
 * Contract for implementers and callers:
 * - Creating tensors and running kernels is synchronous: it validates shapes
 *   and dtypes at once (throwing ShapeError/DTypeError), then queues the work.
 *   The webgpu device records GPU commands; the cpu device chains the
 *   computation behind its inputs' pending results. Only `Tensor.read()` and
 *   `device.sync()` wait.
 * - Errors that happen while queued work runs (a lost GPU, a WGSL validation
 *   error, an onnxruntime failure) reject the next `read()` or `sync()`.
 *   The webgpu tests check this for an invalid shader.
 * - `dispose()` releases the device's memory and native handles. Tensors of a
 *   disposed device raise DisposedError when used.
 */
import type { DType, StorageArray } from './dtype.js';
import type { Shape } from './shape.js';
import type { Tensor } from './tensor.js';

export type DeviceKind = 'cpu' | 'webgpu';

/** Device request of `getDevice`. `auto` picks a hardware GPU when present, else the CPU. */
export type DeviceRequest = 'auto' | DeviceKind;

/** Adapter description (for the cpu device: the host CPU). */
export interface DeviceInfo {
  name: string;
  vendor: string;
  architecture: string;
  description: string;
  /** True for software adapters such as Mesa lavapipe (llvmpipe). */
  isFallbackAdapter: boolean;
}

/**
 * Limits that kernels plan around. On webgpu these are the adapter's real
 * limits, requested at device creation; on cpu they describe host memory.
 */
export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupSizeZ: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
  /** Subgroup sizes reported by the adapter; 0 when unknown or without the `subgroups` feature. */
  subgroupMinSize: number;
  subgroupMaxSize: number;
}

export interface Device {
  readonly kind: DeviceKind;
  readonly info: DeviceInfo;
  readonly limits: DeviceLimits;
  /** Enabled features (webgpu feature names such as `shader-f16`, `subgroups`). */
  readonly features: ReadonlySet<string>;
  readonly disposed: boolean;

  /** True when tensors of this dtype can be stored (f16 on webgpu needs `shader-f16`). */
  supportsDType(dtype: DType): boolean;

  /**
   * Creates a tensor holding a copy of `data` (row-major). For f16, float data
   * is rounded to binary16 and a Uint16Array is taken as bit patterns.
   */
  tensor(data: ArrayLike<number>, shape: Shape, dtype?: DType): Tensor;

  /** Creates a zero-filled tensor. */
  zeros(shape: Shape, dtype?: DType): Tensor;

  /** Copies a tensor's exact storage to the host once its pending work is done. */
  readStorage(tensor: Tensor): Promise<StorageArray>;

  /** Waits until all queued work has finished; rejects with the first failure. */
  sync(): Promise<void>;

  /** Releases memory and native handles. Idempotent. */
  dispose(): void;
}
