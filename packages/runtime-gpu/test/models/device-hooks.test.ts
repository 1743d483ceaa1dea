/**
 * Linear-input hooks of the device path (`onDeviceLinearInput`): the same
 * layer names in the same order as the host hooks, GPT-2's fused c_attn once,
 * and inputs equal to the host path's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../src/device.js';
import { loadHf } from '../../src/models/index.js';
import { copy } from '../../src/ops.js';
import { keep } from '../../src/scope.js';
import type { Tensor } from '../../src/tensor.js';
import { DEVICE_KINDS, openDevice } from '../helpers.js';
import { maxRelativeError, tinyHfModel, writeTinyHfModel, type TinyFamily } from './fixtures.js';

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'sculpt-device-hooks-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe.each(DEVICE_KINDS)('device hooks on %s', (kind) => {
  let device: Device;

  beforeAll(async () => {
    device = await openDevice(kind);
  });

  it.each(['llama', 'opt', 'gpt2'] as TinyFamily[])('%s inputs match host hooks', async (family) => {
    const path = join(folder, `${kind}-${family}`);
    await writeTinyHfModel(path, tinyHfModel(family, 17));
    const model = await loadHf(path);
    try {
      const tokens = [5, 1, 38, 12, 12, 0, 7];
      const positions = tokens.map((_, t) => t);
      const hidden = model.embed(tokens, positions);

      const hostInputs: [string, Float32Array][] = [];
      await model.runBlock(0, hidden, tokens.length, positions, { onLinearInput: (name, input) => hostInputs.push([name, Float32Array.from(input)]) });

      model.useDevice(device);
      expect(model.deviceBlockRuns).toBe(0);
      const deviceInputs: [string, Tensor][] = [];
      await model.runBlock(0, hidden, tokens.length, positions, { onDeviceLinearInput: (name, input) => deviceInputs.push([name, keep(copy(input))]) });
      expect(model.deviceBlockRuns).toBe(1);

      expect(deviceInputs.map(([name]) => name)).toEqual(hostInputs.map(([name]) => name));
      for (let i = 0; i < hostInputs.length; i++) {
        const [name, tensor] = deviceInputs[i];
        const values = await tensor.read();
        tensor.dispose();
        expect(values.length, name).toBe(hostInputs[i][1].length);
        expect(maxRelativeError(Float32Array.from(values), hostInputs[i][1]), name).toBeLessThan(1e-4);
      }
    } finally {
      await model.close();
    }
  });

  it('rejects device hooks without device', async () => {
    const path = join(folder, `${kind}-host-only`);
    await writeTinyHfModel(path, tinyHfModel('llama', 3));
    const model = await loadHf(path);
    try {
      const hidden = model.embed([1, 2], [0, 1]);
      await expect(model.runBlock(0, hidden, 2, [0, 1], { onDeviceLinearInput: () => {} })).rejects.toThrow(/useDevice/);
    } finally {
      await model.close();
    }
  });
});
