import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cholesky,
  choleskyInverse,
  disposeDevices,
  inverseHessianFactor,
  NotPositiveDefiniteError,
  reference,
  ShapeError,
  type Device,
  type DeviceKind,
} from '../src/index.js';
import { DEVICE_KINDS, expectClose, openDevice, seededValues } from './helpers.js';

/** Builds a well-conditioned SPD matrix XᵀX/rows + I from seeded X. */
function spdMatrix(n: number, seed: number): Float64Array {
  const rows = n + 8;
  const x = seededValues(rows * n, seed);
  const h = reference.hessian(x, rows, n, 2 * rows);
  for (let i = 0; i < n; i++) h[i * n + i] += 1;
  return h;
}

function exampleHessian(): Float64Array {
  const x = new Float64Array(64);
  for (let g = 0; g < 8; g++) for (let c = 0; c < 8; c++) x[g * 8 + c] = ((5 * g + 2 * c) % 7) - 3 + 0.05 * g;
  return reference.hessian(x, 8, 8, 2);
}

const EXPECTED_U_DIAGONAL = [1.244703, 0.280826, 0.244652, 0.212953, 0.248644, 0.236524, 0.189779, 0.166027];

describe('f64 linalg reference', () => {
  it('reproduces diag(U) of the worked example', () => {
    const u = reference.inverseHessianFactor(exampleHessian(), 8, 0.01);
    expectClose(Array.from({ length: 8 }, (_, i) => u[i * 8 + i]), EXPECTED_U_DIAGONAL, { atol: 1e-6, rtol: 0 }, 'diag U');
    for (let i = 0; i < 8; i++) for (let j = 0; j < i; j++) expect(u[i * 8 + j]).toBe(0);
  });

  it('satisfies UᵀU = (H + λI)⁻¹', () => {
    const n = 8;
    const h = exampleHessian();
    const u = reference.inverseHessianFactor(h, n, 0.01);
    const lambda = 0.328;
    // (UᵀU)(H + λI) must be the identity.
    const utu = reference.matmul({ a: u, b: u, batch: 1, batchB: 1, m: n, k: n, n, transA: true });
    const damped = Float64Array.from(h);
    for (let i = 0; i < n; i++) damped[i * n + i] += lambda;
    const identity = reference.matmul({ a: utu, b: damped, batch: 1, batchB: 1, m: n, k: n, n });
    expectClose(identity, Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)), { atol: 1e-9, rtol: 0 }, 'identity');
  });
});

describe.each(DEVICE_KINDS)('linalg on %s', (kind: DeviceKind) => {
  let device: Device;
  const f32 = { atol: 2e-4, rtol: 2e-4 };

  beforeAll(async () => {
    device = await openDevice(kind);
  });

  afterAll(async () => {
    await disposeDevices();
  });

  it.each([1, 5, 32, 33, 77, 300])('factors an SPD matrix of order %i', async (n) => {
    const a = spdMatrix(n, n);
    const l = await cholesky(device.tensor(a, [n, n]));
    expectClose(await l.read(), reference.cholesky(a, n), f32, `cholesky ${n}`);
  });

  it('inverts from the factor', async () => {
    const n = 45;
    const a = spdMatrix(n, 3);
    const lExact = reference.cholesky(a, n);
    const inverse = choleskyInverse(device.tensor(lExact, [n, n]));
    expectClose(await inverse.read(), reference.choleskyInverse(lExact, n), f32, 'choleskyInverse');
  });

  it('computes the inverse-Hessian factor of the worked example', async () => {
    const u = await inverseHessianFactor(device.tensor(exampleHessian(), [8, 8]), 0.01);
    const values = await u.read();
    expectClose(Array.from({ length: 8 }, (_, i) => values[i * 8 + i]), EXPECTED_U_DIAGONAL, { atol: 1e-3, rtol: 1e-3 }, 'diag U');
    expectClose(values, reference.inverseHessianFactor(exampleHessian(), 8, 0.01), { atol: 1e-3, rtol: 1e-3 }, 'U');
  });

  it('computes the inverse-Hessian factor across panels', async () => {
    const n = 70;
    const h = spdMatrix(n, 9);
    const u = await inverseHessianFactor(device.tensor(h, [n, n]));
    expectClose(await u.read(), reference.inverseHessianFactor(h, n, 0.01), { atol: 1e-4, rtol: 1e-3 }, 'U');
  });

  it('computes the inverse-Hessian factor in blocks', async () => {
    const n = 264;
    const h = spdMatrix(n, 21);
    const u = await inverseHessianFactor(device.tensor(h, [n, n]));
    expectClose(await u.read(), reference.inverseHessianFactor(h, n, 0.01), { atol: 1e-4, rtol: 1e-3 }, 'U');
  });

  it('reports a failing pivot in a later block', async () => {
    const n = 300;
    const a = spdMatrix(n, 5);
    a[290 * n + 290] = -1e6;
    const error = await cholesky(device.tensor(a, [n, n])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotPositiveDefiniteError);
    expect((error as NotPositiveDefiniteError).pivotIndex).toBe(290);
  });

  it('raises NotPositiveDefiniteError with the pivot', async () => {
    // The trailing 2×2 block [[1, 2], [2, 1]] is indefinite, so pivot 2 fails.
    const a = [4, 0, 0, 0, 1, 2, 0, 2, 1];
    const error = await cholesky(device.tensor(a, [3, 3])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotPositiveDefiniteError);
    expect((error as NotPositiveDefiniteError).pivotIndex).toBe(2);
    expect((error as NotPositiveDefiniteError).pivotValue).toBeCloseTo(-3, 5);
    expect((error as Error).message).toMatch(/cholesky: f32 tensor #\d+ \[3, 3\] on \w+ is not positive definite \(pivot 2/);
  });

  it('rejects invalid Cholesky inputs', async () => {
    expect(() => choleskyInverse(device.zeros([3, 4]))).toThrow(ShapeError);
    expect(() => choleskyInverse(device.zeros([3, 4]))).toThrow(/choleskyInverse: f32 tensor #\d+ \[3, 4\] on \w+ must be a square matrix/);
    await expect(inverseHessianFactor(device.zeros([4, 4]), -0.5)).rejects.toThrow(/inverseHessianFactor: percdamp must be a finite number ≥ 0.*got -0.5/);
    await expect(inverseHessianFactor(device.zeros([4, 4]), Number.NaN)).rejects.toThrow(/percdamp must be a finite number/);
  });

  it('raises NotPositiveDefiniteError for a zero matrix without damping', async () => {
    await expect(inverseHessianFactor(device.zeros([4, 4]), 0)).rejects.toBeInstanceOf(NotPositiveDefiniteError);
  });
});
