import { Random } from '@sculpt/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DisposedError, ShapeError, disposeDevices, nn, recordTape, reduceMax, reduceMin, type Device } from '../../src/index.js';
import { extremumForward, extremumLayout, type ExtremumKind } from '../../src/nn/extremum-reference.js';
import { checkForward, checkGradients, devicesUnderTest, randomArray, type OpCase } from './harness.js';

let devices: Device[] = [];

beforeAll(async () => {
  devices = await devicesUnderTest();
});

afterAll(async () => {
  await disposeDevices();
});

function extremumCase(kind: ExtremumKind, shape: number[], axis: number, seed: number): OpCase {
  const random = new Random(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const resolved = axis < 0 ? axis + shape.length : axis;
  return {
    name: `${kind} over axis ${axis} of [${shape.join(', ')}]`,
    inputs: [{ shape, data: randomArray(random, size), grad: true }],
    run: ([x]) => (kind === 'max' ? reduceMax(x, axis) : reduceMin(x, axis)),
    reference: ([x]) => extremumForward(x, extremumLayout(shape, resolved), kind).values,
  };
}

const cases: OpCase[] = [
  extremumCase('max', [3, 5, 4], 0, 1),
  extremumCase('max', [3, 5, 4], 1, 2),
  extremumCase('max', [3, 5, 4], -1, 3),
  extremumCase('min', [3, 5, 4], 0, 4),
  extremumCase('min', [3, 5, 4], 1, 5),
  extremumCase('min', [7, 9], 1, 6),
  extremumCase('max', [130], 0, 7),
];

describe('reduceMax and reduceMin', () => {
  for (const opCase of cases) {
    test(`${opCase.name} forward`, async () => {
      for (const device of devices) await checkForward(device, opCase, 1e-6);
    });
    test(`${opCase.name} gradient`, async () => {
      for (const device of devices) await checkGradients(device, opCase, 1e-4);
    });
  }

  test('output shape drops the axis', () => {
    for (const device of devices) {
      const x = device.zeros([2, 3, 4]);
      const y = reduceMax(x, 1);
      expect(y.shape, device.kind).toEqual([2, 4]);
      y.dispose();
      x.dispose();
    }
  });

  test('ties pick the first index', async () => {
    // Rows [5, 1], [2, -3], [5, -3]: the max of column 0 ties at rows 0 and 2, the min of column 1 at rows 1 and 2.
    const data = [5, 1, 2, -3, 5, -3];
    for (const device of devices) {
      for (const kind of ['max', 'min'] as const) {
        const x = device.tensor(data, [3, 2]);
        x.requiresGrad = true;
        const { tape, result } = recordTape(() => (kind === 'max' ? reduceMax(x, 0) : reduceMin(x, 0)));
        tape.backward(result, device.tensor([1, 1], [2]));
        const expectedValues = kind === 'max' ? [5, 1] : [2, -3];
        const expectedGrad = kind === 'max' ? [1, 1, 0, 0, 0, 0] : [0, 0, 1, 1, 0, 0];
        expect(Array.from(await result.read()), `${kind} values on ${device.kind}`).toEqual(expectedValues);
        expect(Array.from(await x.grad!.read()), `${kind} gradient on ${device.kind}`).toEqual(expectedGrad);
        result.dispose();
        x.grad!.dispose();
        x.dispose();
      }
    }
  });

  test('gradient composes with other ops', async () => {
    // d/dx Σ 2·max(x, axis 1): 2 at each row's arg-max, else 0.
    for (const device of devices) {
      const x = device.tensor([1, 4, 2, 9, -1, 0], [2, 3]);
      x.requiresGrad = true;
      const { tape, result } = recordTape(() => nn.affine(reduceMax(x, 1), 2));
      tape.backward(result, device.tensor([1, 1], [2]));
      expect(Array.from(await x.grad!.read()), device.kind).toEqual([0, 2, 0, 2, 0, 0]);
      result.dispose();
      x.grad!.dispose();
      x.dispose();
    }
  });

  test('f16 input on webgpu', async () => {
    for (const device of devices.filter((candidate) => candidate.kind === 'webgpu' && candidate.supportsDType('f16'))) {
      const values = [0.5, -2, 3.25, 1, 7.5, -0.125];
      const x = device.tensor(values, [2, 3], 'f16');
      const max = reduceMax(x, 1);
      const min = reduceMin(x, 0);
      expect(max.dtype).toBe('f16');
      expect(Array.from(await max.read())).toEqual([3.25, 7.5]);
      expect(Array.from(await min.read())).toEqual([0.5, -2, -0.125]);
      for (const tensor of [x, max, min]) tensor.dispose();
    }
  });

  test('invalid axis raises ShapeError', () => {
    for (const device of devices) {
      const x = device.zeros([2, 3]);
      expect(() => reduceMax(x, 2)).toThrow(ShapeError);
      expect(() => reduceMin(x, -3)).toThrow(/axis -3 is out of range/u);
      x.dispose();
    }
  });

  test('empty axis raises ShapeError', () => {
    for (const device of devices) {
      const x = device.zeros([2, 0]);
      expect(() => reduceMax(x, 1)).toThrow(/is empty/u);
      x.dispose();
    }
  });

  test('disposed input raises DisposedError', () => {
    for (const device of devices) {
      const x = device.zeros([2, 3]);
      x.dispose();
      expect(() => reduceMin(x, 0)).toThrow(DisposedError);
    }
  });
});
