/**
 * Shared setup of the tests that prune the real stories260K model from
 * `../shared/data` on each device and hold the result to a host run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { probeWebGpuAdapter, type CausalLM, type DeviceKind } from '@sculpt/runtime-gpu';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const modelPath = path.resolve(repoRoot, '../shared/data/models/stories260K/stories260K.bin');

const probe = await probeWebGpuAdapter();

/** cpu always; webgpu when an adapter exists, and also when CI is set so a missing driver fails instead of skipping. */
export const deviceKinds: DeviceKind[] = probe.adapter !== null || process.env.CI ? ['cpu', 'webgpu'] : ['cpu'];

/** Throws the CI error for webgpu without an adapter; call before using a device kind from `deviceKinds`. */
export function requireAdapter(kind: DeviceKind): void {
  if (kind === 'webgpu' && probe.adapter === null) {
    throw new Error(`CI is set but no WebGPU adapter was found (${probe.reason}); install mesa-vulkan-drivers and libvulkan1`);
  }
}

/** Copies of every linear weight of the model, block by block. */
export async function linearWeights(model: CausalLM): Promise<Float32Array[]> {
  const weights: Float32Array[] = [];
  for (let b = 0; b < model.config.nLayers; b++) {
    for (const layer of (await model.block(b)).linearLayers()) weights.push(Float32Array.from(layer.getWeight()));
  }
  return weights;
}

/** Same sparsity pattern in every layer, and weights within `tolerance` of the largest expected magnitude. */
export function expectSamePrunedWeights(actual: Float32Array[], expected: Float32Array[], tolerance = 1e-4): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) {
    let mismatches = 0;
    let difference = 0;
    let scale = 0;
    for (let j = 0; j < expected[i].length; j++) {
      if ((expected[i][j] === 0) !== (actual[i][j] === 0)) mismatches++;
      difference = Math.max(difference, Math.abs(actual[i][j] - expected[i][j]));
      scale = Math.max(scale, Math.abs(expected[i][j]));
    }
    expect(mismatches, `mask mismatches in linear layer ${i}`).toBe(0);
    expect(difference / scale, `relative weight error in linear layer ${i}`).toBeLessThan(tolerance);
  }
}
