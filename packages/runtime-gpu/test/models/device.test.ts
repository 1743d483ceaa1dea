/**
 * Model blocks on a Device (nn's TransformerBlock): the cpu device always, and
 * WebGPU (lavapipe here) when an adapter exists or CI is set.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decoderPlugins, getLogger, type Decoder } from '@sculpt/core';
import type { Device } from '../../src/device.js';
import { CausalLMDecoder, loadHf, loadLlama2c } from '../../src/models/index.js';
import { DEVICE_KINDS, openDevice } from '../helpers.js';
import { decodeWithPieces, maxRelativeError, storiesModel, storiesTokenizer, STORIES_REFERENCE_TEXT, tinyHfModel, writeTinyHfModel, type TinyFamily } from './fixtures.js';

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'sculpt-device-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe.each(DEVICE_KINDS)('models on %s device', (kind) => {
  let device: Device;

  beforeAll(async () => {
    device = await openDevice(kind);
  });

  it.each(['llama', 'qwen2', 'opt', 'gpt2'] as TinyFamily[])('%s logits match host path', async (family) => {
    const path = join(folder, `${kind}-${family}`);
    await writeTinyHfModel(path, tinyHfModel(family, 31));
    const model = await loadHf(path);
    const tokens = [5, 1, 38, 12, 12, 0, 7];
    const host = await model.forward(tokens);
    model.useDevice(device);
    expect(maxRelativeError(await model.forward(tokens), host)).toBeLessThan(1e-4);
    await model.close();
  });

  // The host path runs the same check in llama2c.test.ts, and the logits cases cover the cpu device.
  const onWebGpu = kind === 'webgpu' ? it : undefined;
  onWebGpu?.('greedy stories260K matches reference', { timeout: 240_000 }, async () => {
    const model = await loadLlama2c(storiesModel);
    model.useDevice(device);
    const plugin = await decoderPlugins.find((entry) => entry.name === 'greedy')!.load();
    const greedy = (await plugin.create(plugin.meta.options.parse({ maxNewTokens: 270, stopTokens: [1] }), { logger: getLogger('test') })) as Decoder;
    const [result] = await greedy.decode(new CausalLMDecoder(model), [[1]]);
    const text = decodeWithPieces(await readFile(storiesTokenizer), result.sequences[0].tokens);
    expect(text.startsWith(STORIES_REFERENCE_TEXT)).toBe(true);
    await model.close();
  });

  it('weight change reaches device copy', async () => {
    const model = await loadLlama2c(storiesModel);
    model.useDevice(device);
    const tokens = [1, 403, 407];
    const before = await model.forward(tokens);
    const layer = (await model.block(0)).linearLayers()[6];
    layer.setWeight(new Float32Array(layer.getWeight().length));
    const after = await model.forward(tokens);
    expect(maxRelativeError(after, before)).toBeGreaterThan(1e-3);
    await model.close();
  });
});
