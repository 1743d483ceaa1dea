import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  cholesky,
  disposeDevices,
  DisposedError,
  DTypeError,
  getDevice,
  matmul,
  parseDeviceRequest,
  reshape,
  ShapeError,
  type Device,
  type DeviceKind,
} from '../src/index.js';
import { UsageError } from '@sculpt/core';
import { DEVICE_KINDS, openDevice } from './helpers.js';

describe.each(DEVICE_KINDS)('errors on %s', (kind: DeviceKind) => {
  let device: Device;

  beforeAll(async () => {
    device = await openDevice(kind);
  });

  afterAll(async () => {
    await disposeDevices();
  });

  it('names op, shapes and device on a shape mismatch', () => {
    const a = device.zeros([2, 3]);
    const b = device.zeros([4, 5]);
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow(
      new RegExp(`matmul: inner dimensions differ \\(3 vs 4\\) for f32 tensor #\\d+ \\[2, 3\\] on ${kind} × f32 tensor #\\d+ \\[4, 5\\] on ${kind}`),
    );
    expect(() => add(a, b)).toThrow(/add: shapes \[2, 3\] and \[4, 5\] are not broadcastable/);
    expect(() => reshape(a, [5])).toThrow(/reshape: cannot reshape/);
    expect(() => matmul(device.zeros([2, 2, 3]), device.zeros([3, 3, 2]))).toThrow(/batch dimensions \[2\] and \[3\] differ/);
    expect(() => matmul(a, device.zeros([3, 2]), { bias: device.zeros([3]) })).toThrow(/bias .* must have shape \[2\]/);
  });

  it('rejects mixed dtypes', () => {
    expect(() => add(device.zeros([2]), device.zeros([2], 'i32'))).toThrow(DTypeError);
    expect(() => matmul(device.zeros([2, 2], 'i32'), device.zeros([2, 2], 'i32'))).toThrow(/matmul: .* has dtype i32; expected f32 or f16/);
  });

  it('rejects use after dispose', () => {
    const a = device.zeros([2]);
    a.dispose();
    expect(() => add(a, a)).toThrow(DisposedError);
    expect(() => add(a, a)).toThrow(new RegExp(`add: f32 tensor #\\d+ \\[2\\] on ${kind} was used after dispose`));
  });

  it('rejects non-square Cholesky input', async () => {
    await expect(cholesky(device.zeros([2, 3]))).rejects.toThrow(/cholesky: .* must be a square matrix/);
  });

  it('rejects data that does not fill the shape', () => {
    expect(() => device.tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => device.zeros([2, -1])).toThrow(ShapeError);
  });
});

describe('device selection', () => {
  afterAll(async () => {
    await disposeDevices();
  });

  it('parses device requests', () => {
    expect(parseDeviceRequest('auto')).toBe('auto');
    expect(() => parseDeviceRequest('tpu')).toThrow(UsageError);
    expect(() => parseDeviceRequest('tpu')).toThrow(/Invalid device 'tpu'; expected one of auto, cpu, webgpu/);
  });

  it('auto never picks a software adapter', async () => {
    const device = await getDevice('auto');
    if (device.kind === 'webgpu') expect(device.info.isFallbackAdapter).toBe(false);
    expect(device.disposed).toBe(false);
  });

  it('returns one shared device per kind', async () => {
    expect(await getDevice('cpu')).toBe(await getDevice('cpu'));
  });
});
