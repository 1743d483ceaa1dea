/**
 * webgpu Cholesky, Cholesky inverse and inverse-Hessian factor on matrices
 * larger than one storage binding: a real device plans with a 64 KiB binding
 * limit, so a 200×200 f32 matrix (160 KB) is processed in windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cholesky,
  choleskyInverse,
  createWebGpuDevice,
  disposeDevices,
  inverseHessianFactor,
  LimitError,
  NotPositiveDefiniteError,
  reference,
  type WebGpuDevice,
} from '../src/index.js';
import { expectClose, gpuAvailable, seededValues } from './helpers.js';

const BINDING_LIMIT = 64 * 1024;

/** Builds a well-conditioned SPD matrix XᵀX/rows + I from seeded X. */
function spdMatrix(n: number, seed: number): Float64Array {
  const rows = n + 8;
  const x = seededValues(rows * n, seed);
  const h = reference.hessian(x, rows, n, 2 * rows);
  for (let i = 0; i < n; i++) h[i * n + i] += 1;
  return h;
}

describe.skipIf(!gpuAvailable && !process.env.CI)('webgpu linalg beyond one binding', () => {
  let small: WebGpuDevice;
  const f32 = { atol: 2e-4, rtol: 2e-4 };

  beforeAll(async () => {
    if (!gpuAvailable) throw new Error('CI is set but no WebGPU adapter was found; install mesa-vulkan-drivers and libvulkan1');
    small = await createWebGpuDevice({ planningLimits: { maxStorageBufferBindingSize: BINDING_LIMIT } });
  });

  afterAll(async () => {
    small?.dispose();
    await disposeDevices();
  });

  it.each([200, 137])('factors an SPD matrix of order %i', async (n) => {
    expect(n * n * 4).toBeGreaterThan(BINDING_LIMIT);
    const a = spdMatrix(n, n);
    const l = await cholesky(small.tensor(a, [n, n]));
    expectClose(await l.read(), reference.cholesky(a, n), f32, `cholesky ${n}`);
  });

  it('inverts from the factor', async () => {
    const n = 200;
    const lExact = reference.cholesky(spdMatrix(n, 3), n);
    const inverse = choleskyInverse(small.tensor(lExact, [n, n]));
    expectClose(await inverse.read(), reference.choleskyInverse(lExact, n), f32, 'choleskyInverse');
  });

  it('computes the inverse-Hessian factor', async () => {
    const n = 170;
    const h = spdMatrix(n, 21);
    const u = await inverseHessianFactor(small.tensor(h, [n, n]));
    expectClose(await u.read(), reference.inverseHessianFactor(h, n, 0.01), { atol: 1e-4, rtol: 1e-3 }, 'U');
  });

  it('reports a failing pivot in a later window', async () => {
    const n = 200;
    const a = spdMatrix(n, 5);
    a[190 * n + 190] = -1e6;
    const error = await cholesky(small.tensor(a, [n, n])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotPositiveDefiniteError);
    expect((error as NotPositiveDefiniteError).pivotIndex).toBe(190);
  });

  it('rejects a matrix whose block rows exceed one binding', async () => {
    // 64 rows of a 300-wide matrix need 76 KB, over the 64 KiB limit.
    expect(() => choleskyInverse(small.zeros([300, 300]))).toThrow(LimitError);
    expect(() => choleskyInverse(small.zeros([300, 300]))).toThrow(/choleskyInverse: 64 rows of a 300×300 f32 matrix need \d+ bytes in one binding/);
  });
});
