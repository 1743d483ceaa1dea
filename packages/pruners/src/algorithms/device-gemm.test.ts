import { describe, expect, it } from 'vitest';
import { Random } from '@sculpt/core';
import { createDeviceGemm } from './device-gemm.js';
import { inverseUpperCholesky, referenceGemm } from './linalg.js';
import { sparseGpt } from './sparsegpt.js';

function randomArray(length: number, random: Random): Float64Array {
  return Float64Array.from({ length }, () => random.normal());
}

describe('device gemm', () => {
  it('matches the f64 loop on strided views', async () => {
    const random = new Random(3);
    const [m, n, k] = [120, 110, 100];
    const a = randomArray(130 * 140, random);
    const b = randomArray(140 * 150, random);
    const expected = randomArray(125 * 160, random);
    const actual = Float64Array.from(expected);
    referenceGemm.subtractProduct(m, n, k, a, 3, 140, b, 5, 150, expected, 7, 160);
    await createDeviceGemm().subtractProduct(m, n, k, a, 3, 140, b, 5, 150, actual, 7, 160);
    actual.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(1e-4 * (1 + Math.abs(expected[i]))));
  });

  it('gives SparseGPT the same mask as the f64 path', async () => {
    const random = new Random(9);
    const rows = 64;
    const cols = 256;
    const x = randomArray(512 * cols, random);
    const h = new Float64Array(cols * cols);
    referenceGemm.subtractProduct(cols, cols, 512, Float64Array.from({ length: cols * 512 }, (_, i) => -x[(i % 512) * cols + Math.floor(i / 512)]), 0, 512, x, 0, cols, h, 0, cols);
    const weight = { rows, cols, data: randomArray(rows * cols, random) };
    const reference = await sparseGpt(weight, h, { sparsity: 0.5 });
    const fast = await sparseGpt(weight, h, { sparsity: 0.5, gemm: createDeviceGemm(undefined, 1) });
    let differing = 0;
    reference.mask.data.forEach((bit, i) => (differing += bit === fast.mask.data[i] ? 0 : 1));
    // Float32 products may flip a handful of near-tie choices, never more.
    expect(differing).toBeLessThanOrEqual(rows * cols * 0.002);
    expect(Math.abs(fast.loss - reference.loss) / reference.loss).toBeLessThan(1e-3);
    const upper = await inverseUpperCholesky(Float64Array.from({ length: 4 }, (_, i) => (i % 3 === 0 ? 2 : 0.5)), 2, createDeviceGemm(undefined, 1));
    expect(upper[2]).toBe(0);
  });
});
