/**
 * Shared test setup: device lookup, JSON vectors and tolerance checks.
 *
 * WebGPU: files probe for an adapter while collecting (so `describe.skipIf`
 * sees the answer) and create the device in `beforeAll`. Without an adapter
 * the webgpu suites are skipped locally, but fail when CI is set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { getDevice, probeWebGpuAdapter, type Device, type DeviceKind, type DType } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const probe = await probeWebGpuAdapter();

/** True when a WebGPU adapter exists (lavapipe included). */
export const gpuAvailable = probe.adapter !== null;

/** Device kinds whose suites run in this process. In CI, webgpu is always listed, so a missing adapter fails. */
export const DEVICE_KINDS: DeviceKind[] = gpuAvailable || process.env.CI ? ['cpu', 'webgpu'] : ['cpu'];

export async function openDevice(kind: DeviceKind): Promise<Device> {
  if (kind === 'webgpu' && !gpuAvailable) {
    throw new Error(`CI is set but no WebGPU adapter was found (${probe.reason}); install mesa-vulkan-drivers and libvulkan1`);
  }
  return getDevice(kind);
}

export interface TensorJson {
  shape: number[];
  data: number[];
}

export function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(here, 'data', name), 'utf8')) as T;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

export const TOLERANCE: Record<DType, Tolerance> = {
  f32: { atol: 1e-4, rtol: 1e-4 },
  f16: { atol: 3e-2, rtol: 1e-2 },
  i32: { atol: 0, rtol: 0 },
};

/** Asserts |got − expected| ≤ atol + rtol·|expected| element-wise, reporting the first failing index. */
export function expectClose(got: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance, label = ''): void {
  expect(got.length, `${label}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(expected[i]);
    const excess = Math.abs(got[i] - expected[i]) - allowed;
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${label}: element ${worst} is ${got[worst]}, expected ${expected[worst]} (tolerance atol ${tolerance.atol}, rtol ${tolerance.rtol})`);
  }
}

/** Deterministic pseudo-random values in [-1, 1), for shapes not stored as vectors. */
export function seededValues(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = ((state >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}
