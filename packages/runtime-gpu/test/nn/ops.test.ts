import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { disposeDevices, type Device } from '../../src/index.js';
import { buildCases } from './cases.js';
import { checkForward, checkGradients, devicesUnderTest } from './harness.js';

let devices: Device[] = [];

beforeAll(async () => {
  devices = await devicesUnderTest();
});

afterAll(async () => {
  await disposeDevices();
});

describe('nn ops against float64 references', () => {
  for (const opCase of buildCases()) {
    test(`${opCase.name} forward`, async () => {
      for (const device of devices) await checkForward(device, opCase, 2e-5);
    });
    test(`${opCase.name} gradient`, async () => {
      for (const device of devices) await checkGradients(device, opCase, 2e-3);
    });
  }

  test('devices include cpu', () => {
    expect(devices.map((device) => device.kind)).toContain('cpu');
  });
});
