/**
 * Hessian and Wanda statistics against the closed forms, including the
 * worked example (C_in = 8, two sequences of four tokens) whose expected
 * values come from a float64 transliteration of the SparseGPT and Wanda
 * reference code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  disposeDevices,
  HessianAccumulator,
  hessianUpdate,
  reference,
  ShapeError,
  WandaScalerAccumulator,
  type Device,
  type DeviceKind,
} from '../src/index.js';
import { DEVICE_KINDS, expectClose, openDevice, seededValues } from './helpers.js';

/** Token g = 4b + t of the example: X[g][c] = ((5g + 2c) mod 7) − 3 + 0.05·g. */
function exampleInputs(): Float64Array {
  const x = new Float64Array(8 * 8);
  for (let g = 0; g < 8; g++) {
    for (let c = 0; c < 8; c++) x[g * 8 + c] = ((5 * g + 2 * c) % 7) - 3 + 0.05 * g;
  }
  return x;
}

const EXPECTED_DIAGONAL = [35.95, 30.05, 30.75, 38.05, 30.95, 28.35, 32.35, 35.95];
const EXPECTED_SCALER = [17.975, 15.025, 15.375, 19.025, 15.475, 14.175, 16.175, 17.975];

describe('statistics reference', () => {
  it('reproduces the worked example in f64', () => {
    const x = exampleInputs();
    expect(Array.from(x.subarray(0, 8))).toEqual([-3, -1, 1, 3, -2, 0, 2, -3]);
    const h = reference.hessian(x, 8, 8, 2);
    expectClose(Array.from({ length: 8 }, (_, i) => h[i * 8 + i]), EXPECTED_DIAGONAL, { atol: 0, rtol: 1e-12 }, 'diag H');
    expectClose([h[0], h[1], h[2]], [35.95, -4.0, -16.65], { atol: 1e-12, rtol: 1e-12 }, 'H[0, 0:3]');
    expect(EXPECTED_DIAGONAL.reduce((sum, value) => sum + value, 0)).toBeCloseTo(262.4, 10);
    expectClose(reference.wandaScaler(x, 8, 8, 2), EXPECTED_SCALER, { atol: 0, rtol: 1e-12 }, 'scaler_row');
  });
});

describe.each(DEVICE_KINDS)('statistics on %s', (kind: DeviceKind) => {
  let device: Device;

  beforeAll(async () => {
    device = await openDevice(kind);
  });

  afterAll(async () => {
    await disposeDevices();
  });

  it('matches the worked example with one call per sequence', async () => {
    const x = exampleInputs();
    const hessian = new HessianAccumulator(device, 8);
    const scaler = new WandaScalerAccumulator(device, 8);
    for (let b = 0; b < 2; b++) {
      const sequence = device.tensor(x.subarray(b * 32, b * 32 + 32), [4, 8]);
      hessian.add(sequence, 1);
      scaler.add(sequence, 1);
      sequence.dispose();
    }
    expect(hessian.samples).toBe(2);
    const h = await hessian.hessian.read();
    expectClose(Array.from({ length: 8 }, (_, i) => h[i * 8 + i]), EXPECTED_DIAGONAL, { atol: 1e-4, rtol: 1e-5 }, 'diag H');
    expectClose([h[0], h[1], h[2]], [35.95, -4.0, -16.65], { atol: 1e-4, rtol: 1e-5 }, 'H[0, 0:3]');
    expectClose(await scaler.scaler.read(), EXPECTED_SCALER, { atol: 1e-4, rtol: 1e-5 }, 'scaler_row');
    hessian.dispose();
    scaler.dispose();
  });

  it('gives the closed form for any chunking', async () => {
    const rows = 150;
    const d = 36;
    const x = seededValues(rows * d, 11);
    const expectedH = reference.hessian(x, rows, d, rows);
    const expectedS = reference.wandaScaler(x, rows, d, rows);
    for (const chunks of [[150], [1, 149], [64, 64, 22], [7, 13, 29, 31, 70]]) {
      const hessian = new HessianAccumulator(device, d);
      const scaler = new WandaScalerAccumulator(device, d);
      let start = 0;
      for (const size of chunks) {
        const chunk = device.tensor(x.subarray(start * d, (start + size) * d), [size, d]);
        hessian.add(chunk);
        scaler.add(chunk);
        chunk.dispose();
        start += size;
      }
      const label = `chunks ${chunks.join('+')}`;
      expectClose(await hessian.hessian.read(), expectedH, { atol: 1e-5, rtol: 1e-4 }, `${label} H`);
      expectClose(await scaler.scaler.read(), expectedS, { atol: 1e-6, rtol: 1e-5 }, `${label} scaler`);
      hessian.dispose();
      scaler.dispose();
    }
  });

  it('keeps H exactly symmetric on wide inputs', async () => {
    const rows = 40;
    const d = 136;
    const x = seededValues(rows * d, 17);
    const h = hessianUpdate(device.zeros([d, d]), device.tensor(x, [rows, d]), 0, rows);
    const values = await h.read();
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) expect(values[i * d + j]).toBe(values[j * d + i]);
    }
    expectClose(values, reference.hessian(x, rows, d, rows), { atol: 1e-5, rtol: 1e-4 }, 'H');
  });

  it('accepts f16 inputs with f32 accumulation', async () => {
    if (!device.supportsDType('f16')) return;
    const rows = 24;
    const d = 20;
    const x = seededValues(rows * d, 23);
    const hessian = new HessianAccumulator(device, d);
    hessian.add(device.tensor(x, [rows, d], 'f16'));
    expect(hessian.hessian.dtype).toBe('f32');
    expectClose(await hessian.hessian.read(), reference.hessian(x, rows, d, rows), { atol: 2e-3, rtol: 2e-3 }, 'H from f16');
    hessian.dispose();
  });

  it('rejects inputs of the wrong width', () => {
    const hessian = new HessianAccumulator(device, 8);
    expect(() => hessian.add(device.zeros([4, 7]))).toThrow(ShapeError);
    expect(() => hessianUpdate(device.zeros([8, 8]), device.zeros([4, 7]), 0, 1)).toThrow(/hessianUpdate: input f32 tensor #\d+ \[4, 7\] on \w+ must have last dimension 8/);
    hessian.dispose();
  });
});
