/**
 * Shared test harness for the nn kernels: seeded data, device setup for cpu
 * and webgpu, forward checks against the float64 references, and gradient
 * checks by central finite differences of those references.
 */
import { Random } from '@sculpt/core';
import { expect } from 'vitest';
import { getDevice, recordTape, type Device, type Tensor } from '../../src/index.js';

export type HostArray = Float64Array | Int32Array;

export interface CaseInput {
  shape: number[];
  data: HostArray;
  /** Differentiate with respect to this input (float inputs only). */
  grad?: boolean;
}

export interface OpCase {
  name: string;
  inputs: CaseInput[];
  /** Runs the op under test on device tensors. */
  run(tensors: Tensor[]): Tensor;
  /** Float64 reference of the same op on host arrays. */
  reference(arrays: HostArray[]): Float64Array;
}

export function randomArray(random: Random, size: number, scale = 1): Float64Array {
  return Float64Array.from({ length: size }, () => random.normal() * scale);
}

export function randomInts(random: Random, size: number, max: number): Int32Array {
  return Int32Array.from({ length: size }, () => random.int(0, max - 1));
}

export function toTensor(device: Device, input: CaseInput): Tensor {
  const dtype = input.data instanceof Int32Array ? 'i32' : 'f32';
  const tensor = device.tensor(input.data, input.shape, dtype);
  tensor.requiresGrad = input.grad ?? false;
  return tensor;
}

/** max |actual − expected| / max(|expected|, floor) over all elements. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1): number {
  let maxDiff = 0;
  let maxRef = floor;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    if (!Number.isFinite(actual[i])) return Infinity;
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / maxRef;
}

export async function checkForward(device: Device, opCase: OpCase, tolerance: number): Promise<number> {
  const tensors = opCase.inputs.map((input) => toTensor(device, input));
  const output = opCase.run(tensors);
  const actual = await output.read();
  const expected = opCase.reference(opCase.inputs.map((input) => input.data));
  expect(actual.length, `${opCase.name}: output size`).toBe(expected.length);
  const error = relativeError(actual, expected);
  expect(error, `${opCase.name}: forward relative error on ${device.kind}`).toBeLessThan(tolerance);
  output.dispose();
  for (const tensor of tensors) tensor.dispose();
  return error;
}

/**
 * Checks d(Σ op(x)·R)/dx from the device's backward pass against central
 * differences of the float64 reference, for every input marked `grad`.
 */
export async function checkGradients(device: Device, opCase: OpCase, tolerance: number, seed = 7): Promise<void> {
  const random = new Random(seed);
  const arrays = opCase.inputs.map((input) => input.data);
  const outputSize = opCase.reference(arrays).length;
  const projection = randomArray(random, outputSize);

  const tensors = opCase.inputs.map((input) => toTensor(device, input));
  const { tape, result } = recordTape(() => opCase.run(tensors));
  tape.backward(result, device.tensor(projection, result.shape, 'f32'));
  result.dispose();

  for (let index = 0; index < opCase.inputs.length; index++) {
    const input = opCase.inputs[index];
    if (!input.grad) continue;
    const grad = tensors[index].grad;
    expect(grad, `${opCase.name}: input ${index} received no gradient`).not.toBeNull();
    const analytic = await grad!.read();

    // Large inputs are checked at an evenly spread sample of elements to bound the reference runs.
    const count = Math.min(input.data.length, MAX_CHECKED_ELEMENTS);
    const indices = Array.from({ length: count }, (_, n) => Math.floor((n * input.data.length) / count));
    const numeric = new Float64Array(count);
    const sampled = new Float64Array(count);
    const h = 1e-5;
    const perturbed = arrays.slice();
    indices.forEach((element, n) => {
      const copy = Float64Array.from(input.data);
      copy[element] += h;
      perturbed[index] = copy;
      const plus = dot(opCase.reference(perturbed), projection);
      copy[element] -= 2 * h;
      const minus = dot(opCase.reference(perturbed), projection);
      numeric[n] = (plus - minus) / (2 * h);
      sampled[n] = analytic[element];
    });
    const error = relativeError(sampled, numeric, 1e-2);
    expect(error, `${opCase.name}: gradient of input ${index} on ${device.kind}`).toBeLessThan(tolerance);
  }
  for (const tensor of tensors) {
    tensor.grad?.dispose();
    tensor.dispose();
  }
}

/** Elements per input checked by finite differences. */
const MAX_CHECKED_ELEMENTS = 96;

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/**
 * Devices under test: cpu always; webgpu when an adapter exists. In CI
 * (env CI set) a missing adapter is an error, never a skip.
 */
export async function devicesUnderTest(): Promise<Device[]> {
  const devices: Device[] = [await getDevice('cpu')];
  if (process.env.SCULPT_TEST_DEVICES === 'cpu') return devices;
  try {
    devices.push(await getDevice('webgpu'));
  } catch (error) {
    if (process.env.CI) throw error;
  }
  return devices;
}
