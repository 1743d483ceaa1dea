import { afterAll, describe, expect, it } from 'vitest';
import { choleskyInverse, disposeDevices, getDevice, reference } from '../src/index.js';
import { choleskyInverseBlockedF64, lowerTriangularInverseBlockedF64 } from '../src/cpu/linalg-blocked.js';
import { OrtSessionCache } from '../src/cpu/ort-sessions.js';
import { lowerTriangularInverseF64 } from '../src/linalg/cholesky-f64.js';
import { expectClose, seededValues } from './helpers.js';

/** Builds a well-conditioned lower-triangular matrix: seeded values below the diagonal, 2 + |x| on it. */
function lowerTriangular(n: number, seed: number): Float64Array {
  const values = seededValues(n * n, seed);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) l[i * n + j] = values[i * n + j] / Math.sqrt(n);
    l[i * n + i] = 2 + Math.abs(values[i * n + i]);
  }
  return l;
}

/** Largest |(L·X − I)ᵢⱼ| in float64. */
function identityResidual(l: Float64Array, x: Float64Array, n: number): number {
  const product = reference.matmul({ a: l, b: x, batch: 1, batchB: 1, m: n, k: n, n });
  let worst = 0;
  for (let i = 0; i < n * n; i++) worst = Math.max(worst, Math.abs(product[i] - (i % (n + 1) === 0 ? 1 : 0)));
  return worst;
}

describe('blocked triangular inverse (cpu, f64)', () => {
  const sessions = new OrtSessionCache(2);

  afterAll(async () => {
    await sessions.dispose();
    await disposeDevices();
  });

  it.each([1, 200, 256, 300, 517])('matches the unblocked inverse at order %i', async (n) => {
    const l = lowerTriangular(n, n);
    const blocked = await lowerTriangularInverseBlockedF64(l, n, sessions);
    expectClose(blocked, lowerTriangularInverseF64(l, n), { atol: 1e-12, rtol: 1e-10 }, `L⁻¹ ${n}`);
    expect(identityResidual(l, blocked, n)).toBeLessThan(1e-12);
  });

  it('leaves the upper triangle zero', async () => {
    const n = 300;
    const l = lowerTriangular(n, 4);
    // Garbage above the diagonal must not be read.
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) l[i * n + j] = 1e6;
    const blocked = await lowerTriangularInverseBlockedF64(l, n, sessions);
    let nonZeroAbove = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (blocked[i * n + j] !== 0) nonZeroAbove++;
    expect(nonZeroAbove).toBe(0);
    expectClose(blocked, lowerTriangularInverseF64(l, n), { atol: 1e-12, rtol: 1e-10 }, 'L⁻¹ with garbage above');
  });

  it('computes the Cholesky inverse in blocks', async () => {
    const n = 300;
    const l = lowerTriangular(n, 8);
    expectClose(await choleskyInverseBlockedF64(l, n, sessions), reference.choleskyInverse(l, n), { atol: 1e-12, rtol: 1e-10 }, '(LLᵀ)⁻¹');
  });

  it('matches the f64 reference through the cpu device', async () => {
    const n = 260;
    const l = lowerTriangular(n, 12);
    const device = await getDevice('cpu');
    const inverse = choleskyInverse(device.tensor(l, [n, n]));
    // f32 input rounding dominates, so the tolerance is f32-sized.
    expectClose(await inverse.read(), reference.choleskyInverse(Float64Array.from(Float32Array.from(l)), n), { atol: 1e-6, rtol: 1e-5 }, 'choleskyInverse');
  });
});
