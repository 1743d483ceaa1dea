import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { disposeDevices, LimitError, nn, setCpuAttentionStrategy, type Device } from '../../src/index.js';
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

  test('oversized binding raises LimitError', () => {
    for (const device of devices.filter((candidate) => candidate.kind === 'webgpu')) {
      const limit = device.limits.maxStorageBufferBindingSize;
      // Only adapters with a small binding limit (lavapipe: 128 MiB) are checked, to keep the allocation modest.
      if (limit > 2 ** 29) continue;
      const big = device.zeros([limit / 4 + 1]);
      expect(() => nn.activation(big, 'relu')).toThrow(LimitError);
      big.dispose();
    }
  });
});

// The default cpu strategy picks the unfused onnxruntime path for these small shapes, so the fused TypeScript kernel is checked here.
describe('fused cpu attention', () => {
  beforeAll(() => setCpuAttentionStrategy('fused'));
  afterAll(() => setCpuAttentionStrategy('auto'));

  for (const opCase of buildCases().filter((candidate) => candidate.name.startsWith('attention'))) {
    test(`${opCase.name} fused forward and gradient`, async () => {
      const cpu = devices.filter((device) => device.kind === 'cpu');
      for (const device of cpu) {
        await checkForward(device, opCase, 2e-5);
        await checkGradients(device, opCase, 2e-3);
      }
    });
  }
});
