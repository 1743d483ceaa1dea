/** In-place tensor writes used to restore AdamW moments, on every available device. */
import { afterAll, describe, expect, it } from 'vitest';
import { disposeDevices, getDevice, probeWebGpuAdapter, type DeviceKind } from '@sculpt/runtime-gpu';
import { overwriteTensor } from '../../src/train/checkpoint.js';

const probe = await probeWebGpuAdapter();
const kinds: DeviceKind[] = probe.adapter !== null || process.env.CI ? ['cpu', 'webgpu'] : ['cpu'];

afterAll(async () => {
  await disposeDevices();
});

describe.each(kinds)('overwriteTensor on %s', (kind) => {
  it('replaces values in place', async () => {
    if (kind === 'webgpu' && probe.adapter === null) {
      throw new Error(`CI is set but no WebGPU adapter was found (${probe.reason}); install mesa-vulkan-drivers and libvulkan1`);
    }
    const device = await getDevice(kind);
    const tensor = device.zeros([2, 3], 'f32');
    const values = Float32Array.from([1.5, -2, 3.25, 0, 1e-7, 42]);
    await overwriteTensor(tensor, values);
    expect(Array.from((await tensor.read()) as Float32Array)).toEqual(Array.from(values));
    tensor.dispose();
  });

  it('rejects a size mismatch', async () => {
    if (kind === 'webgpu' && probe.adapter === null) return;
    const device = await getDevice(kind);
    const tensor = device.zeros([4], 'f32');
    await expect(overwriteTensor(tensor, new Float32Array(3))).rejects.toThrow(/cannot take 3 f32 values/u);
    tensor.dispose();
  });
});
