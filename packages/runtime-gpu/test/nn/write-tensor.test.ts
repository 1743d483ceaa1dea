import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DTypeError, DisposedError, ShapeError, affine, disposeDevices, writeTensor, type Device } from '../../src/index.js';
import { devicesUnderTest } from './harness.js';

let devices: Device[] = [];

beforeAll(async () => {
  devices = await devicesUnderTest();
});

afterAll(async () => {
  await disposeDevices();
});

describe('writeTensor', () => {
  test('overwrites f32 values in place', async () => {
    for (const device of devices) {
      const tensor = device.zeros([2, 3]);
      await writeTensor(tensor, Float32Array.from([1, 2, 3, 4, 5, 6]));
      expect(Array.from(await tensor.read()), device.kind).toEqual([1, 2, 3, 4, 5, 6]);
      tensor.dispose();
    }
  });

  test('keeps queued order', async () => {
    for (const device of devices) {
      const tensor = device.tensor([1, 2], [2]);
      const before = affine(tensor, 10);
      await writeTensor(tensor, [3, 4]);
      const after = affine(tensor, 10);
      expect(Array.from(await before.read()), `read queued before, ${device.kind}`).toEqual([10, 20]);
      expect(Array.from(await after.read()), `read queued after, ${device.kind}`).toEqual([30, 40]);
      for (const item of [tensor, before, after]) item.dispose();
    }
  });

  test('writes i32 and f16 tensors', async () => {
    for (const device of devices) {
      const ids = device.zeros([3], 'i32');
      await writeTensor(ids, [7, -1, 2]);
      expect(Array.from(await ids.read()), device.kind).toEqual([7, -1, 2]);
      ids.dispose();
      if (!device.supportsDType('f16')) continue;
      // Three f16 values are 6 bytes, which exercises the padded copy.
      const half = device.zeros([3], 'f16');
      await writeTensor(half, [0.5, 1.25, -3]);
      expect(Array.from(await half.read()), device.kind).toEqual([0.5, 1.25, -3]);
      half.dispose();
    }
  });

  test('rejects a wrong value count', async () => {
    for (const device of devices) {
      const tensor = device.zeros([4]);
      await expect(writeTensor(tensor, [1, 2, 3])).rejects.toThrow(ShapeError);
      await expect(writeTensor(tensor, [1, 2, 3])).rejects.toThrow(/has 4 elements, got 3 values/u);
      tensor.dispose();
    }
  });

  test('rejects fractions in i32 tensors', async () => {
    for (const device of devices) {
      const tensor = device.zeros([2], 'i32');
      await expect(writeTensor(tensor, [1, 2.5])).rejects.toThrow(DTypeError);
      tensor.dispose();
    }
  });

  test('rejects a disposed tensor', async () => {
    for (const device of devices) {
      const tensor = device.zeros([2]);
      tensor.dispose();
      await expect(writeTensor(tensor, [1, 2])).rejects.toThrow(DisposedError);
    }
  });
});
