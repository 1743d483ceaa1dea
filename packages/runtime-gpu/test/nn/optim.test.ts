/** AdamW against the float64 reference, global-norm clipping, and overflow handling with dynamic loss scaling. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AdamW, disposeDevices, DynamicLossScaler, nnReference as ref, type Device } from '../../src/index.js';
import { devicesUnderTest, relativeError } from './harness.js';

let devices: Device[] = [];
beforeAll(async () => {
  devices = await devicesUnderTest();
});
afterAll(async () => {
  await disposeDevices();
});

const initial = [Float64Array.of(0.5, -1, 2, 0.25, -0.75), Float64Array.of(1, 2, -3)];
const gradients = [Float64Array.of(0.3, -0.2, 0.9, 0, 1.5), Float64Array.of(-2, 0.1, 0.4)];

describe('AdamW', () => {
  test('clipped steps match float64 reference', async () => {
    const options = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
    const maxGradNorm = 0.5;
    const lossScale = 4;
    for (const device of devices) {
      const params = initial.map((values) => device.tensor(values, [values.length]));
      const optimizer = new AdamW(params, { ...options, maxGradNorm, lossScale });

      // The reference receives unscaled gradients clipped to the global norm.
      const expected = initial.map((values) => Float64Array.from(values));
      const moments = initial.map((values) => [new Float64Array(values.length), new Float64Array(values.length)]);
      const norm = Math.sqrt(gradients.reduce((sum, g) => sum + g.reduce((s, v) => s + v * v, 0), 0));
      const clip = maxGradNorm / (norm + 1e-6);

      for (let step = 1; step <= 3; step++) {
        params.forEach((param, i) => (param.grad = device.tensor(gradients[i].map((g) => g * lossScale), param.shape)));
        await optimizer.update();
        optimizer.zeroGrad();
        expected.forEach((values, i) => ref.adamwRef(values, gradients[i].map((g) => g * clip), moments[i][0], moments[i][1], step, options));
      }
      for (let i = 0; i < params.length; i++) {
        expect(relativeError(await params[i].read(), expected[i]), `parameter ${i} on ${device.kind}`).toBeLessThan(1e-6);
      }
      optimizer.dispose();
    }
  });

  test('overflowed gradients skip the step', async () => {
    for (const device of devices) {
      const param = device.tensor([1, 2, 3], [3]);
      const optimizer = new AdamW([param], { lr: 0.1, lossScale: 1024 });
      const scaler = new DynamicLossScaler({ initialScale: 1024, growthInterval: 2 });

      param.grad = device.tensor([1, Infinity, 0], [3]);
      await optimizer.update();
      optimizer.zeroGrad();
      expect(await scaler.adjust(optimizer)).toBe(false);
      expect(Array.from(await param.read())).toEqual([1, 2, 3]);
      expect(scaler.scale).toBe(512);
      expect(optimizer.options.lossScale).toBe(512);

      for (let step = 0; step < 2; step++) {
        param.grad = device.tensor([512, 512, 512], [3]);
        await optimizer.update();
        optimizer.zeroGrad();
        expect(await scaler.adjust(optimizer)).toBe(true);
      }
      expect(scaler.scale).toBe(1024);
      const values = await param.read();
      expect(values[0]).toBeLessThan(1);
      optimizer.dispose();
    }
  });
});
