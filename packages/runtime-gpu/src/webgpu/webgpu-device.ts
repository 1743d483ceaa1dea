/**
 * The webgpu device on Dawn (npm `webgpu`).
 *
 * - Limits: the adapter's real limits are requested, because otherwise
 *   WebGPU's defaults apply (e.g. 128 MiB per storage binding). `shader-f16`,
 *   `subgroups` and `timestamp-query` are enabled when the adapter has them.
 * - Work: kernels record dispatches into one command encoder, which is
 *   submitted every DISPATCHES_PER_SUBMIT dispatches and before readback.
 * - Memory: tensor buffers come from a bucketed pool; a disposed tensor's
 *   buffer is reused only after the commands using it were submitted.
 * - Failures: device loss and uncaptured errors are recorded and raised by
 *   the next dispatch, read or sync, so they surface instead of hanging.
 */
import { getLogger } from '@sculpt/core';
import { toStorage, type DType, type StorageArray } from '../dtype.js';
import type { Device, DeviceInfo, DeviceLimits } from '../device.js';
import { DeviceLostError, DisposedError, DTypeError, LimitError, NoAdapterError } from '../errors.js';
import { assertValidShape, formatShape, shapeSize, type Shape } from '../shape.js';
import { Tensor, type TensorStorage } from '../tensor.js';
import { BufferPool } from './buffer-pool.js';
import { pacedWait } from './event-pacing.js';
import { getGpuInstance, releaseGpuInstance } from './gpu-instance.js';

const log = getLogger('runtime-gpu:webgpu');

/** Dispatches recorded before a queue submit: fewer submits, while work still starts early. */
const DISPATCHES_PER_SUBMIT = 16;

const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[];

const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export interface WebGpuOptions {
  /**
   * Flags for Dawn's `create()`, e.g. `['adapter=llvmpipe']`. They apply when
   * the process-wide Dawn instance is created, so they are ignored while a device exists.
   */
  flags?: string[];
  /**
   * Lower limits to plan with than the adapter's (never higher): kernels then
   * split work as they would on a smaller GPU. Used by tests of chunking and
   * dispatch folding.
   */
  /** Optional features not to enable even when the adapter has them (e.g. `['subgroups']`, to run the fallback kernels). */
  withoutFeatures?: string[];
  planningLimits?: Partial<Pick<DeviceLimits, 'maxStorageBufferBindingSize' | 'maxComputeWorkgroupsPerDimension'>>;
}

/** Adapter facts for `sculpt devices`. */
export interface AdapterReport {
  info: DeviceInfo;
  features: string[];
  limits: Record<string, number>;
}

export function isSoftwareAdapter(info: { isFallbackAdapter?: boolean; device?: string; description?: string }): boolean {
  const names = `${info.device ?? ''} ${info.description ?? ''}`.toLowerCase();
  return info.isFallbackAdapter === true || names.includes('llvmpipe') || names.includes('lavapipe') || names.includes('swiftshader');
}

function describeAdapter(adapter: GPUAdapter): DeviceInfo {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const fallback = info.isFallbackAdapter ?? legacy ?? false;
  return {
    name: info.description || info.device || 'unknown adapter',
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    isFallbackAdapter: isSoftwareAdapter({ isFallbackAdapter: fallback, device: info.device, description: info.description }),
  };
}

async function requestAdapter(options: WebGpuOptions): Promise<GPUAdapter> {
  let gpu: GPU;
  try {
    gpu = await getGpuInstance(options.flags ?? []);
  } catch (error) {
    throw new NoAdapterError(`webgpu: loading Dawn (npm webgpu) failed: ${(error as Error).message}`, { cause: error });
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    throw new NoAdapterError(`webgpu: requestAdapter failed: ${(error as Error).message}`, { cause: error });
  }
  if (adapter === null) {
    throw new NoAdapterError(
      'webgpu: no adapter found. Install a Vulkan driver (on Debian: libvulkan1 and mesa-vulkan-drivers for the lavapipe software adapter) or use --device cpu',
    );
  }
  return adapter;
}

/** Finds the default adapter without creating a device; releases Dawn again when no device exists yet. */
export async function probeWebGpuAdapter(options: WebGpuOptions = {}): Promise<{ adapter: DeviceInfo | null; reason: string }> {
  try {
    const adapter = await requestAdapter(options);
    return { adapter: describeAdapter(adapter), reason: 'found' };
  } catch (error) {
    return { adapter: null, reason: (error as Error).message };
  } finally {
    if (liveDevices === 0) releaseGpuInstance();
  }
}

/** Reports the adapter Dawn offers (Dawn's Node binding exposes one adapter per instance). */
export async function listWebGpuAdapters(options: WebGpuOptions = {}): Promise<AdapterReport[]> {
  try {
    const adapter = await requestAdapter(options);
    return [reportAdapter(adapter)];
  } catch (error) {
    if (error instanceof NoAdapterError) return [];
    throw error;
  } finally {
    if (liveDevices === 0) releaseGpuInstance();
  }
}

function reportAdapter(adapter: GPUAdapter): AdapterReport {
  const limits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) limits[name] = adapter.limits[name];
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  if (info.subgroupMinSize !== undefined) limits.subgroupMinSize = info.subgroupMinSize;
  if (info.subgroupMaxSize !== undefined) limits.subgroupMaxSize = info.subgroupMaxSize;
  return { info: describeAdapter(adapter), features: [...adapter.features].sort(), limits };
}

let liveDevices = 0;

export async function createWebGpuDevice(options: WebGpuOptions = {}): Promise<WebGpuDevice> {
  let adapter: GPUAdapter;
  try {
    adapter = await requestAdapter(options);
  } catch (error) {
    // Drop the instance, so a later call can retry (possibly with other flags) and the process can exit.
    if (liveDevices === 0) releaseGpuInstance();
    throw error;
  }
  const report = reportAdapter(adapter);
  const features = OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature) && !options.withoutFeatures?.includes(feature));
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name];

  let gpu: GPUDevice;
  try {
    gpu = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  } catch (error) {
    releaseGpuInstance();
    throw new NoAdapterError(`webgpu: requestDevice on ${report.info.name} failed: ${(error as Error).message}`, { cause: error });
  }
  liveDevices++;
  log.debug(() => `webgpu device on ${report.info.name} with features [${features.join(', ')}]`);
  return new WebGpuDevice(gpu, report, new Set(features), options.planningLimits);
}

/** GPU memory of a tensor: a pooled buffer, of which the first `byteLength` bytes are the data. */
export class GpuStorage implements TensorStorage {
  constructor(
    readonly buffer: GPUBuffer,
    readonly byteLength: number,
    private readonly device: WebGpuDevice,
  ) {}

  release(): void {
    this.device.releaseBuffer(this.buffer);
  }
}

/** A buffer range bound to one binding of a dispatch. */
export interface BufferBinding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

export interface DispatchRequest {
  /** Pipeline cache key: kernel name + dtype + tile configuration; never shapes. */
  key: string;
  /** WGSL source, built only on a cache miss. */
  code: () => string;
  /** Storage buffers at bindings 0..n-1 of group 0. */
  bindings: (GPUBuffer | BufferBinding)[];
  /** Uniform data at binding n (after the storage buffers); omitted when null. */
  uniforms: ArrayBuffer | null;
  workgroups: [number, number?, number?];
}

export class WebGpuDevice implements Device {
  readonly kind = 'webgpu' as const;
  readonly info: DeviceInfo;
  readonly limits: DeviceLimits;
  readonly features: ReadonlySet<string>;
  readonly adapterReport: AdapterReport;
  readonly pool: BufferPool;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #dispatches = 0;
  #error: Error | null = null;
  #lost: Error | null = null;
  #disposed = false;

  constructor(
    readonly gpu: GPUDevice,
    report: AdapterReport,
    features: Set<string>,
    planningLimits: WebGpuOptions['planningLimits'] = {},
  ) {
    this.adapterReport = report;
    this.info = report.info;
    this.features = features;
    this.limits = {
      maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize,
      maxBufferSize: gpu.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: gpu.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: gpu.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: gpu.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: gpu.limits.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupSizeZ: gpu.limits.maxComputeWorkgroupSizeZ,
      maxComputeWorkgroupsPerDimension: gpu.limits.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: gpu.limits.maxStorageBuffersPerShaderStage,
      subgroupMinSize: report.limits.subgroupMinSize ?? 0,
      subgroupMaxSize: report.limits.subgroupMaxSize ?? 0,
    };
    for (const [name, value] of Object.entries(planningLimits)) {
      const key = name as keyof typeof planningLimits;
      if (value !== undefined && value < this.limits[key]) this.limits[key] = value;
    }
    this.pool = new BufferPool(gpu);

    gpu.lost.then((info) => {
      if (this.#disposed && info.reason === 'destroyed') return;
      this.#lost = new DeviceLostError(`webgpu: device ${this.info.name} was lost (${info.reason}): ${info.message}`);
      log.error(this.#lost.message);
    });
    gpu.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
      const error = new DeviceLostError(`webgpu: uncaptured ${event.error.constructor.name}: ${event.error.message}`);
      log.error(error.message);
      this.#error ??= error;
    };
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  supportsDType(dtype: DType): boolean {
    return dtype !== 'f16' || this.features.has('shader-f16');
  }

  get hasF16(): boolean {
    return this.features.has('shader-f16');
  }

  tensor(data: ArrayLike<number>, shape: Shape, dtype: DType = 'f32'): Tensor {
    this.assertUsable('tensor');
    assertValidShape(shape, 'webgpu.tensor');
    this.#assertDType('tensor', dtype);
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new RangeError(`webgpu.tensor: ${data.length} values do not fill shape ${formatShape(shape)} (${size} elements)`);
    }
    const storage = toStorage(data, dtype);
    const tensor = this.createTensor(shape, dtype);
    const buffer = tensor.storage<GpuStorage>('tensor').buffer;
    // writeBuffer needs a multiple of 4 bytes; odd-length f16 data gets one padding element.
    const bytes = new Uint8Array(storage.buffer, storage.byteOffset, storage.byteLength);
    const padded = bytes.byteLength % 4 === 0 ? bytes : copyPadded(bytes);
    if (padded.byteLength > 0) this.gpu.queue.writeBuffer(buffer, 0, padded);
    return tensor;
  }

  zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
    this.assertUsable('zeros');
    assertValidShape(shape, 'webgpu.zeros');
    this.#assertDType('zeros', dtype);
    const tensor = this.createTensor(shape, dtype);
    const storage = tensor.storage<GpuStorage>('zeros');
    this.#endPass();
    this.#commandEncoder().clearBuffer(storage.buffer, 0, storage.buffer.size);
    return tensor;
  }

  /** Allocates an uninitialised tensor; kernels create their outputs with it. */
  createTensor(shape: Shape, dtype: DType): Tensor {
    const byteLength = shapeSize(shape) * (dtype === 'f16' ? 2 : 4);
    if (byteLength > this.limits.maxBufferSize) {
      throw new LimitError(
        `webgpu: a ${dtype} tensor ${formatShape(shape)} needs ${byteLength} bytes, over the adapter's maxBufferSize of ${this.limits.maxBufferSize}`,
      );
    }
    const buffer = this.pool.acquire(Math.max(4, byteLength), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    return new Tensor(this, shape, dtype, new GpuStorage(buffer, byteLength, this));
  }

  releaseBuffer(buffer: GPUBuffer): void {
    if (this.#disposed) return;
    this.pool.release(buffer);
  }

  /** Returns the pipeline for `key`, compiling `code()` on first use. */
  pipeline(key: string, code: () => string): GPUComputePipeline {
    let pipeline = this.#pipelines.get(key);
    if (pipeline === undefined) {
      const source = code();
      log.debug(() => `compiling pipeline '${key}'`);
      const module = this.gpu.createShaderModule({ label: key, code: source });
      pipeline = this.gpu.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Records one dispatch; submits the encoder every DISPATCHES_PER_SUBMIT dispatches. */
  dispatch(request: DispatchRequest): void {
    this.assertUsable(request.key);
    const [x, y = 1, z = 1] = request.workgroups;
    const maxPerDimension = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxPerDimension || y > maxPerDimension || z > maxPerDimension) {
      throw new LimitError(`${request.key}: dispatch [${x}, ${y}, ${z}] exceeds maxComputeWorkgroupsPerDimension ${maxPerDimension}; fold it first`);
    }
    if (x === 0 || y === 0 || z === 0) return;

    this.#assertBindingSizes(request);
    const pipeline = this.pipeline(request.key, request.code);
    const entries: GPUBindGroupEntry[] = request.bindings.map((binding, index) => ({
      binding: index,
      resource: 'buffer' in binding ? { buffer: binding.buffer, offset: binding.offset, size: binding.size } : { buffer: binding },
    }));
    let uniformBuffer: GPUBuffer | null = null;
    if (request.uniforms !== null) {
      uniformBuffer = this.pool.acquire(request.uniforms.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      this.gpu.queue.writeBuffer(uniformBuffer, 0, request.uniforms);
      entries.push({ binding: request.bindings.length, resource: { buffer: uniformBuffer } });
    }
    const bindGroup = this.gpu.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });

    const pass = this.#computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    // The uniform buffer is reused only after this dispatch has been submitted.
    if (uniformBuffer !== null) this.pool.release(uniformBuffer);

    if (++this.#dispatches >= DISPATCHES_PER_SUBMIT) this.flush();
  }

  /**
   * Raises LimitError for a storage binding larger than maxStorageBufferBindingSize. Dawn
   * would reject it too, but only against the adapter's limit, so this check also makes
   * lowered `planningLimits` catch a kernel that binds a whole oversized tensor.
   */
  #assertBindingSizes(request: DispatchRequest): void {
    const limit = this.limits.maxStorageBufferBindingSize;
    for (const [index, binding] of request.bindings.entries()) {
      const size = 'buffer' in binding ? binding.size ?? binding.buffer.size - (binding.offset ?? 0) : binding.size;
      if (size > limit) {
        throw new LimitError(`${request.key}: storage binding ${index} spans ${size} bytes, over maxStorageBufferBindingSize ${limit}; the kernel must split its work into windows`);
      }
    }
  }

  /** Records a buffer-to-buffer copy (outside any compute pass). */
  copyBuffer(source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, size: number): void {
    this.assertUsable('copy');
    this.#endPass();
    this.#commandEncoder().copyBufferToBuffer(source, sourceOffset, target, targetOffset, size);
  }

  /** Submits recorded commands, if any. */
  flush(): void {
    this.#endPass();
    if (this.#encoder === null) return;
    const commands = this.#encoder.finish();
    this.#encoder = null;
    this.#dispatches = 0;
    this.gpu.queue.submit([commands]);
    this.pool.onSubmit();
  }

  async readStorage(tensor: Tensor): Promise<StorageArray> {
    const storage = tensor.storage<GpuStorage>('read');
    this.assertUsable('read');
    const size = Math.ceil(storage.byteLength / 4) * 4;
    const staging = this.gpu.createBuffer({ size: Math.max(4, size), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    try {
      if (size > 0) this.copyBuffer(storage.buffer, 0, staging, 0, size);
      this.flush();
      await pacedWait(this.info.isFallbackAdapter, () => staging.mapAsync(GPUMapMode.READ));
      this.#raiseRecordedError('read');
      const bytes = staging.getMappedRange(0, size).slice(0, storage.byteLength);
      staging.unmap();
      if (tensor.dtype === 'f16') return new Uint16Array(bytes);
      if (tensor.dtype === 'i32') return new Int32Array(bytes);
      return new Float32Array(bytes);
    } catch (error) {
      this.#raiseRecordedError('read');
      throw error;
    } finally {
      staging.destroy();
    }
  }

  async sync(): Promise<void> {
    this.assertUsable('sync');
    this.flush();
    await pacedWait(this.info.isFallbackAdapter, () => this.gpu.queue.onSubmittedWorkDone());
    this.#raiseRecordedError('sync');
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pass = null;
    this.#encoder = null;
    this.#pipelines.clear();
    this.pool.dispose();
    this.gpu.onuncapturederror = null;
    this.gpu.destroy();
    liveDevices--;
    if (liveDevices === 0) releaseGpuInstance();
  }

  assertUsable(op: string): void {
    if (this.#disposed) throw new DisposedError(`${op}: the webgpu device was disposed`);
    if (this.#lost) throw this.#lost;
  }

  #raiseRecordedError(op: string): void {
    if (this.#lost) throw this.#lost;
    if (this.#error) {
      const error = this.#error;
      this.#error = null;
      throw new DeviceLostError(`${op}: ${error.message}`, { cause: error });
    }
  }

  #assertDType(op: string, dtype: DType): void {
    if (!this.supportsDType(dtype)) {
      throw new DTypeError(`webgpu.${op}: dtype ${dtype} needs the 'shader-f16' feature, which adapter ${this.info.name} lacks; use f32`);
    }
  }

  #commandEncoder(): GPUCommandEncoder {
    this.#encoder ??= this.gpu.createCommandEncoder();
    return this.#encoder;
  }

  #computePass(): GPUComputePassEncoder {
    this.#pass ??= this.#commandEncoder().beginComputePass();
    return this.#pass;
  }

  #endPass(): void {
    if (this.#pass === null) return;
    this.#pass.end();
    this.#pass = null;
  }
}

function copyPadded(bytes: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  return padded;
}

/** Narrows a Device to WebGpuDevice; kernels registered for 'webgpu' receive only these. */
export function asWebGpuDevice(device: Device): WebGpuDevice {
  return device as WebGpuDevice;
}
