import { describe, expect, it } from 'vitest';
import { HessianAccumulator, RowScaler } from './collectors.js';
import { choleskyLower, inverseUpperCholesky, invertLowerTriangular, invertSpd, NotPositiveDefiniteError } from './linalg.js';
import { applyMask, countPruned, kthSmallest, maskToBitStrings, toRows, type Matrix } from './matrix.js';
import { magnitudeScore, riaScore, wandaScore } from './scorers.js';
import { parseNMPattern, selectAlphaVariant, selectNM, selectPerMatrix, selectPerRow } from './selectors.js';
import { sparseGpt } from './sparsegpt.js';
import { reconstructionError, specInputs, specWeight } from '../../test/spec-vectors.js';

async function statistics(columnScale: number[] = []): Promise<{ hessian: HessianAccumulator; scaler: RowScaler }> {
  const hessian = new HessianAccumulator(8);
  const scaler = new RowScaler(8);
  for (const input of specInputs(columnScale)) {
    await hessian.addBatch(input);
    scaler.addBatch(input);
  }
  return { hessian, scaler };
}

function expectRowClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => {
    if (expected[i] === 0) expect(value).toBe(0);
    else expect(Math.abs(value - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-6);
  });
}

function relativeClose(actual: number, expected: number, tolerance = 1e-6): void {
  expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(tolerance);
}

/** W[r, j:] −= W[r,j]/Hj[0,0] · Hj[0,:] with Hj = ((H+λI)[j:, j:])⁻¹, for each pruned (r, j) in column order. */
async function naiveObs(weight: Matrix, hessian: Float32Array | Float64Array, mask: Uint8Array, percdamp = 0.01): Promise<number[][]> {
  const n = weight.cols;
  const damped = Float64Array.from(hessian);
  let mean = 0;
  for (let j = 0; j < n; j++) mean += damped[j * n + j] / n;
  for (let j = 0; j < n; j++) damped[j * n + j] += percdamp * mean;
  const w = Float64Array.from(weight.data);
  for (let j = 0; j < n; j++) {
    const size = n - j;
    const sub = new Float64Array(size * size);
    for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) sub[a * size + b] = damped[(j + a) * n + j + b];
    const inverse = await invertSpd(sub, size);
    for (let r = 0; r < weight.rows; r++) {
      if (!mask[r * n + j]) continue;
      const factor = w[r * n + j] / inverse[0];
      for (let b = 0; b < size; b++) w[r * n + j + b] -= factor * inverse[b];
      w[r * n + j] = 0;
    }
  }
  return toRows({ rows: weight.rows, cols: n, data: w });
}

describe('activation statistics', () => {
  it('match the closed-form Hessian and scaler', async () => {
    const { hessian, scaler } = await statistics();
    const h = hessian.values;
    const diagonal = Array.from({ length: 8 }, (_, j) => h[j * 8 + j]);
    expectRowClose(diagonal, [35.95, 30.05, 30.75, 38.05, 30.95, 28.35, 32.35, 35.95]);
    expectRowClose([h[0], h[1], h[2]], [35.95, -4.0, -16.65]);
    relativeClose(diagonal.reduce((a, b) => a + b, 0), 262.4);
    expectRowClose(Array.from(scaler.values), [17.975, 15.025, 15.375, 19.025, 15.475, 14.175, 16.175, 17.975]);
  });

  it('Hessian is symmetric and order-independent', async () => {
    const forward = new HessianAccumulator(8);
    const backward = new HessianAccumulator(8);
    const inputs = specInputs();
    for (const input of inputs) await forward.addBatch(input);
    for (const input of [...inputs].reverse()) await backward.addBatch(input);
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        expect(forward.values[i * 8 + j]).toBeCloseTo(forward.values[j * 8 + i], 12);
        expect(forward.values[i * 8 + j]).toBeCloseTo(backward.values[i * 8 + j], 12);
      }
    }
  });

  it('token mask leaves padding out', async () => {
    const scaler = new RowScaler(8);
    const [first] = specInputs();
    scaler.addBatch({ ...first, tokenMask: Uint8Array.from([0, 1, 1, 1]) });
    let expected = 0;
    for (let t = 1; t < 4; t++) expected += first.data[t * 8] ** 2;
    expect(scaler.values[0]).toBeCloseTo(expected, 12);
    expect(scaler.tokensCounted).toBe(3);
  });
});

describe('inverse Cholesky factor', () => {
  it('matches the spec diagonal of U', async () => {
    const { hessian } = await statistics();
    const damped = Float64Array.from(hessian.values);
    for (let j = 0; j < 8; j++) damped[j * 8 + j] += 0.328;
    const upper = await inverseUpperCholesky(damped, 8);
    const diagonal = Array.from({ length: 8 }, (_, j) => upper[j * 8 + j]);
    // The spec prints six decimals, so compare to half a unit in the last place.
    const expected = [1.244703, 0.280826, 0.244652, 0.212953, 0.248644, 0.236524, 0.189779, 0.166027];
    diagonal.forEach((value, j) => expect(Math.abs(value - expected[j])).toBeLessThanOrEqual(5e-7));
    // UᵀU = (H + λI)⁻¹ and U is upper triangular.
    const inverse = await invertSpd(damped, 8);
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        if (i > j) expect(upper[i * 8 + j]).toBe(0);
        let sum = 0;
        for (let p = 0; p < 8; p++) sum += upper[p * 8 + i] * upper[p * 8 + j];
        expect(sum).toBeCloseTo(inverse[i * 8 + j], 10);
      }
    }
  });

  it('blocked Cholesky equals unblocked', async () => {
    const n = 37;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = Math.cos(i * j) / (1 + Math.abs(i - j)) + (i === j ? n : 0);
    const blocked = Float64Array.from(a);
    const unblocked = Float64Array.from(a);
    await choleskyLower(blocked, n, undefined, 8);
    await choleskyLower(unblocked, n, undefined, n);
    blocked.forEach((value, i) => expect(value).toBeCloseTo(unblocked[i], 10));
  });

  it('recursive triangular inverse gives L·X = I at odd sizes and leaf widths', async () => {
    for (const [n, leaf] of [[1, 64], [7, 2], [53, 4], [130, 8], [130, 130]]) {
      const l = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) l[i * n + j] = i === j ? 1.5 + Math.sin(i) : Math.cos(3 * i + j) / 4;
      const inverse = Float64Array.from(l);
      await invertLowerTriangular(inverse, n, undefined, leaf);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (j > i) expect(inverse[i * n + j]).toBe(0);
          let sum = 0;
          for (let p = 0; p < n; p++) sum += l[i * n + p] * inverse[p * n + j];
          expect(Math.abs(sum - (i === j ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('shift argument equals damping a copy', async () => {
    const { hessian } = await statistics();
    const damped = Float64Array.from(hessian.values);
    for (let j = 0; j < 8; j++) damped[j * 8 + j] += 0.328;
    const before = Float64Array.from(hessian.values);
    const shifted = await inverseUpperCholesky(hessian.values, 8, undefined, { shift: 0.328 });
    expect(Array.from(hessian.values)).toEqual(Array.from(before));
    const copied = await inverseUpperCholesky(damped, 8);
    shifted.forEach((value, i) => expect(value).toBeCloseTo(copied[i], 14));
  });

  it('rejects an indefinite matrix', async () => {
    const a = Float64Array.from([1, 2, 2, 1]);
    await expect(choleskyLower(a, 2)).rejects.toThrow(NotPositiveDefiniteError);
  });
});

describe('order statistic', () => {
  it('kthSmallest equals the sorted entry, with ties, sorted runs and NaN', () => {
    let state = 12345;
    const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    const cases: number[][] = [
      [5],
      Array.from({ length: 300 }, () => Math.floor(next() * 7)),
      Array.from({ length: 1000 }, (_, i) => i),
      Array.from({ length: 1000 }, (_, i) => 1000 - i),
      Array.from({ length: 257 }, () => next() - 0.5),
      [3, NaN, 1, NaN, 2, 2],
    ];
    for (const values of cases) {
      const sorted = Float64Array.from(values).sort();
      for (let k = 0; k < values.length; k++) expect(kthSmallest(values, k)).toBe(sorted[k]);
    }
    expect(() => kthSmallest([1, 2], 2)).toThrow(RangeError);
  });
});

describe('Wanda and magnitude masks', () => {
  const weight = specWeight();

  it('Wanda 50% unstructured', async () => {
    const { scaler } = await statistics();
    const mask = selectPerRow(wandaScore(weight, scaler.values), 0.5);
    expect(maskToBitStrings(mask)).toEqual(['01100110', '10010011', '11001100', '01100110']);
  });

  it('Wanda and magnitude 2:4 equal Wanda 50%', async () => {
    const { scaler } = await statistics();
    const expected = ['01100110', '10010011', '11001100', '01100110'];
    expect(maskToBitStrings(selectNM(wandaScore(weight, scaler.values), parseNMPattern('2:4')))).toEqual(expected);
    expect(maskToBitStrings(selectNM(magnitudeScore(weight), parseNMPattern('2:4')))).toEqual(expected);
  });

  it('α-variant converges to 0.30', async () => {
    const { scaler } = await statistics();
    const result = selectAlphaVariant(wandaScore(weight, scaler.values), 0.5);
    expect(result.alpha).toBeCloseTo(0.3, 12);
    expect(result.steps).toBe(2);
    expect(maskToBitStrings(result.mask)).toEqual(['01100110', '10010011', '11001100', '01100110']);
  });

  it('magnitude 50% prunes k+1', async () => {
    const mask = selectPerMatrix(magnitudeScore(weight), 0.5);
    expect(maskToBitStrings(mask)).toEqual(['01100110', '10010011', '11001101', '01100110']);
    expect(countPruned(mask)).toBe(17);
  });

  it('Wanda follows an outlier input column', async () => {
    const { scaler } = await statistics([1, 10]);
    relativeClose(scaler.values[1], 1502.5);
    const mask = selectPerRow(wandaScore(weight, scaler.values), 0.5);
    expect(maskToBitStrings(mask)).toEqual(['00101110', '10010011', '10001101', '00110110']);
    expect(maskToBitStrings(selectPerMatrix(magnitudeScore(weight), 0.5))).toEqual(['01100110', '10010011', '11001101', '01100110']);
  });

  it('per-row count is exact and N:M groups exact', async () => {
    const scores = magnitudeScore(weight);
    const perRow = selectPerRow(scores, 0.3);
    for (const row of maskToBitStrings(perRow)) expect([...row].filter((bit) => bit === '1')).toHaveLength(2);
    const nm = selectNM(scores, parseNMPattern('4:8'));
    for (const row of maskToBitStrings(nm)) expect([...row].filter((bit) => bit === '1')).toHaveLength(4);
  });

  it('N:M rejects bad patterns and shapes', async () => {
    expect(() => parseNMPattern('4:2')).toThrow(/0 < N < M/);
    expect(() => parseNMPattern('two:four')).toThrow(/expected two integers/);
    expect(() => selectNM(magnitudeScore(weight), parseNMPattern('2:3'))).toThrow(/not a multiple of 3/);
  });

  it('RIA score uses row and column sums', async () => {
    const { scaler } = await statistics();
    const scores = riaScore(weight, scaler.values);
    const w01 = Math.abs(weight.data[1]);
    let columnSum = 0;
    let rowSum = 0;
    for (let r = 0; r < 4; r++) columnSum += Math.abs(weight.data[r * 8 + 1]);
    for (let c = 0; c < 8; c++) rowSum += Math.abs(weight.data[c]);
    relativeClose(scores.data[1], (w01 / columnSum + w01 / rowSum) * Math.sqrt(Math.sqrt(15.025)));
  });
});

describe('SparseGPT', () => {
  const weight = specWeight();

  it('50% with blocksize 128', async () => {
    const { hessian } = await statistics();
    const result = await sparseGpt(weight, hessian.values, { sparsity: 0.5 });
    const rows = toRows(result.weight);
    expect(countPruned(result.mask)).toBe(17);
    relativeClose(result.loss, 716.731862);
    expectRowClose(rows[0], [0, 0, 0, 4.402699, -4.307484, 0, 3.487512, 0.902588]);
    expectRowClose(rows[1], [0, 5.074531, -2.915559, 0, 3.043254, -4.975843, 0, 0]);
    expectRowClose(rows[2], [0, 0, 3.641516, -4.412667, 0, 0, 4.333807, -6.429247]);
    expectRowClose(rows[3], [0, 0, 0, 4.17554, -4.512793, 0, 0, 9.922138]);
    relativeClose(reconstructionError(weight, result.weight), 1381.98, 1e-5);
  });

  it('50% with blocksize 4 chooses per block', async () => {
    const { hessian } = await statistics();
    const result = await sparseGpt(weight, hessian.values, { sparsity: 0.5, blockSize: 4 });
    const rows = toRows(result.weight);
    expect(countPruned(result.mask)).toBe(18);
    relativeClose(result.loss, 715.557471);
    expectRowClose(rows[0], [0, 0, 0, 4.402699, -4.307484, 0, 0, 0]);
    expectRowClose(rows[3], [0, -2.779516, 0, 3.164559, -4.899293, 0, 0, 9.687248]);
  });

  it('2:4', async () => {
    const { hessian } = await statistics();
    const result = await sparseGpt(weight, hessian.values, { sparsity: 0.5, pattern: parseNMPattern('2:4') });
    const rows = toRows(result.weight);
    relativeClose(result.loss, 508.193599);
    expectRowClose(rows[0], [0, -1.90555, 0, 3.709602, -4.572457, 0, 2.526905, 0]);
    expectRowClose(rows[1], [0, 5.074531, -2.915559, 0, 0, -6.443137, 0, 4.304863]);
    relativeClose(reconstructionError(weight, result.weight), 960.58, 1e-5);
    const zeroed = { ...weight, data: Float64Array.from(weight.data) };
    applyMask(zeroed, result.mask);
    relativeClose(reconstructionError(weight, zeroed), 2790.97, 1e-5);
  });

  it('fixed Wanda mask equals naive OBS for any blocksize', async () => {
    const { hessian, scaler } = await statistics();
    const mask = selectPerRow(wandaScore(weight, scaler.values), 0.5);
    const wide = await sparseGpt(weight, hessian.values, { sparsity: 0.5, fixedMask: mask });
    const narrow = await sparseGpt(weight, hessian.values, { sparsity: 0.5, fixedMask: mask, blockSize: 3 });
    const naive = await naiveObs(weight, hessian.values, mask.data);
    const wideRows = toRows(wide.weight);
    expectRowClose(wideRows[0], [-5, 0, 0, 4.386155, -4.330064, 0, 0, 4.580532]);
    expectRowClose(wideRows[3], [5.3, 0, 0, 4.193077, -4.488858, 0, 0, 4.663139]);
    toRows(narrow.weight).forEach((row, r) => expectRowClose(row, wideRows[r]));
    naive.forEach((row, r) => expectRowClose(row, wideRows[r]));

    const zeroed = { ...weight, data: Float64Array.from(weight.data) };
    applyMask(zeroed, mask);
    const zeroedError = reconstructionError(weight, zeroed);
    const updatedError = reconstructionError(weight, wide.weight);
    relativeClose(zeroedError, 2312.94, 1e-5);
    relativeClose(updatedError, 1714.49, 1e-5);
    expect(updatedError).toBeLessThanOrEqual(zeroedError);
  });

  it('overwriteWeight updates the copy in place', async () => {
    const { hessian } = await statistics();
    const copy = { rows: weight.rows, cols: weight.cols, data: Float64Array.from(weight.data) };
    const inPlace = await sparseGpt(copy, hessian.values, { sparsity: 0.5, overwriteWeight: true });
    const separate = await sparseGpt(weight, hessian.values, { sparsity: 0.5 });
    expect(inPlace.weight.data).toBe(copy.data);
    expect(Array.from(inPlace.weight.data)).toEqual(Array.from(separate.weight.data));
    expect(separate.weight.data).not.toBe(weight.data);
  });

  it('dead input column is pruned', async () => {
    const { hessian } = await statistics();
    const h = Float64Array.from(hessian.values);
    for (let k = 0; k < 8; k++) {
      h[2 * 8 + k] = 0;
      h[k * 8 + 2] = 0;
    }
    const result = await sparseGpt(weight, h, { sparsity: 0.25 });
    expect(result.deadColumns).toBe(1);
    for (let r = 0; r < 4; r++) expect(result.weight.data[r * 8 + 2]).toBe(0);
  });

  it('falls back to no update when H stays indefinite', async () => {
    const h = new Float64Array(64);
    for (let j = 0; j < 8; j++) h[j * 8 + j] = 1;
    h[1] = 5;
    h[8] = 5;
    const result = await sparseGpt(weight, h, { sparsity: 0.5, dampingRetries: [] });
    expect(result.percdampUsed).toBeNull();
    // With U = I the kept weights are untouched.
    for (let i = 0; i < 32; i++) if (!result.mask.data[i]) expect(result.weight.data[i]).toBe(weight.data[i]);
  });

  it('retries with larger damping', async () => {
    const h = new Float64Array(64);
    for (let j = 0; j < 8; j++) h[j * 8 + j] = 1;
    h[1] = 1.05;
    h[8] = 1.05;
    const result = await sparseGpt(weight, h, { sparsity: 0.5 });
    expect(result.percdampUsed).toBeCloseTo(0.1, 12);
  });
});
