/**
 * Kernel registry. A kernel is keyed by name × device kind. `runKernel`
 * dispatches on the device of its inputs, so an op written once runs on
 * every device that registered a kernel for it.
 *
 * Contract for kernel authors:
 * - `run` validates inputs (shapes, dtypes) and throws synchronously; then it
 *   queues the work and returns new output tensors on the same device. It must
 *   not modify its inputs unless the kernel's name says so (`*Inplace`).
 * - Attributes are plain JSON-like values (numbers, booleans, strings, arrays).
 * - Registering the same name × device twice raises an error, unless
 *   `override: true` is given (tests, tuned replacements).
 */
import type { Device, DeviceKind } from '../device.js';
import { DeviceMismatchError, KernelNotFoundError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export type KernelAttrs = Record<string, unknown>;

export interface KernelConfig<A extends KernelAttrs = KernelAttrs> {
  name: string;
  device: DeviceKind;
  run(inputs: readonly Tensor[], attrs: A, device: Device): Tensor[];
}

const kernels = new Map<string, KernelConfig>();

function key(name: string, device: DeviceKind): string {
  return `${name}@${device}`;
}

export function registerKernel<A extends KernelAttrs>(config: KernelConfig<A>, options: { override?: boolean } = {}): void {
  const id = key(config.name, config.device);
  if (kernels.has(id) && !options.override) {
    throw new Error(`Kernel '${config.name}' is already registered for device '${config.device}'; pass { override: true } to replace it`);
  }
  kernels.set(id, config as unknown as KernelConfig);
}

export function getKernel(name: string, device: DeviceKind): KernelConfig | undefined {
  return kernels.get(key(name, device));
}

/** Names of the kernels registered for a device kind, sorted. */
export function listKernels(device: DeviceKind): string[] {
  return [...kernels.values()]
    .filter((kernel) => kernel.device === device)
    .map((kernel) => kernel.name)
    .sort();
}

/**
 * Runs kernel `name` on the device of `inputs`. All inputs must be live and
 * on one device. With no inputs, pass the device in `options.device`.
 */
export function runKernel<A extends KernelAttrs>(
  name: string,
  inputs: readonly Tensor[],
  attrs: A = {} as A,
  options: { device?: Device } = {},
): Tensor[] {
  // Kernels that serve several ops (binary, unary, ...) name the op in `attrs.op`; messages use that name.
  const label = typeof attrs.op === 'string' ? attrs.op : name;
  const device = options.device ?? inputs[0]?.device;
  if (device === undefined) {
    throw new DeviceMismatchError(`${label}: no inputs and no device given, so the kernel has nowhere to run`);
  }

  for (const input of inputs) {
    input.storage(label); // raises DisposedError naming the op
    if (input.device !== device) {
      const described = inputs.map((tensor) => tensor.describe()).join(', ');
      throw new DeviceMismatchError(`${label}: inputs are on different devices (${described}); move them to one device first`);
    }
  }

  const kernel = kernels.get(key(name, device.kind));
  if (kernel === undefined) {
    const available = listKernels(device.kind).join(', ');
    throw new KernelNotFoundError(`${name}: no kernel registered for device '${device.kind}' (registered: ${available || 'none'})`);
  }
  return kernel.run(inputs, attrs, device);
}
