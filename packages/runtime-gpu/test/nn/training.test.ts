/**
 * Autograd tape behaviour and end-to-end training: a tiny Llama-style model
 * overfits a fixed batch in 200 AdamW steps on every device, and the devices'
 * loss curves agree.
 */
import { Random } from '@sculpt/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  AdamW,
  disposeDevices,
  IGNORE_INDEX,
  llamaBlockConfig,
  nn,
  noGrad,
  recordTape,
  scope,
  TransformerLM,
  type Device,
} from '../../src/index.js';
import { devicesUnderTest } from './harness.js';

let devices: Device[] = [];
beforeAll(async () => {
  devices = await devicesUnderTest();
});
afterAll(async () => {
  await disposeDevices();
});

describe('autograd tape', () => {
  test('accumulates a reused input and frees intermediates', async () => {
    for (const device of devices) {
      const x = device.tensor([1, 2, 3], [3]);
      x.requiresGrad = true;
      const weights = device.tensor([0.5, -1, 2], [3]);
      let intermediate = x;
      const { tape, result } = recordTape(() => {
        intermediate = nn.mul(x, x);
        return nn.mul(intermediate, weights);
      });
      tape.backward(result, device.tensor([1, 1, 1], [3]));
      // d(w·x²)/dx = 2·w·x
      expect(Array.from(await x.grad!.read())).toEqual([1, -4, 12]);
      expect(intermediate.disposed).toBe(true);
      expect(result.disposed).toBe(false);
      expect(tape.nodes.length).toBe(0);
      expect(weights.grad).toBeNull();
      expect(() => tape.backward(result, 1)).toThrow(/already/);
    }
  });

  test('frozen intermediate survives until backward', async () => {
    for (const device of devices) {
      const x = device.tensor([1, 2, 3], [3]);
      x.requiresGrad = true;
      const frozen = device.tensor([0.5, -1, 2], [3]);
      // The doubled weights are made inside a scope that ends before backward runs.
      const { tape, result } = recordTape(() => scope(() => nn.mul(x, nn.affine(frozen, 2))));
      tape.backward(result, device.tensor([1, 1, 1], [3]));
      expect(Array.from(await x.grad!.read())).toEqual([1, -2, 4]);
      expect(frozen.grad).toBeNull();
    }
  });

  test('noGrad records nothing', () => {
    for (const device of devices) {
      const x = device.tensor([1, 2], [2]);
      x.requiresGrad = true;
      const { tape } = recordTape(() => noGrad(() => nn.affine(x, 2)));
      expect(tape.nodes.length).toBe(0);
    }
  });

  test('non-scalar loss without seed is rejected', () => {
    for (const device of devices) {
      const x = device.tensor([1, 2], [2]);
      x.requiresGrad = true;
      const { tape, result } = recordTape(() => nn.affine(x, 2));
      expect(() => tape.backward(result)).toThrow(/scalar/);
    }
  });
});

/** Builds a fixed batch of two sequences; the second is padded, and its padding targets are ignored. */
function fixedBatch(): { ids: number[]; targets: number[]; positions: number[] } {
  const sequences = [
    [1, 5, 2, 9, 4, 4, 7, 3, 11],
    [2, 8, 8, 6, 10, 1, 0, 0, 0],
  ];
  const lengths = [9, 6];
  const ids: number[] = [];
  const targets: number[] = [];
  const positions: number[] = [];
  sequences.forEach((sequence, b) => {
    for (let t = 0; t < 8; t++) {
      ids.push(sequence[t]);
      targets.push(t + 1 < lengths[b] ? sequence[t + 1] : IGNORE_INDEX);
      positions.push(t);
    }
  });
  return { ids, targets, positions };
}

async function trainCurve(device: Device, steps: number, half = false): Promise<number[]> {
  const config = llamaBlockConfig({ dim: 16, heads: 2, kvHeads: 1, hiddenDim: 32 });
  const model = new TransformerLM(device, { vocab: 12, layers: 2, block: config, maxSeqLen: 8, tiedEmbeddings: true }, new Random(11));
  // With f16 activations the loss is scaled so small gradients survive half precision.
  const lossScale = half ? 256 : 1;
  const optimizer = new AdamW(
    model.parameters().map(([, tensor]) => tensor),
    { lr: 1e-2, weightDecay: 0, maxGradNorm: 1, lossScale },
  );
  const batch = fixedBatch();
  const ids = device.tensor(batch.ids, [16], 'i32');
  const targets = device.tensor(batch.targets, [16], 'i32');
  const positions = device.tensor(batch.positions, [16], 'i32');

  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const computeDType = half ? 'f16' : 'f32';
    const { tape, result: loss } = recordTape(() => model.loss(ids, positions, targets, { batch: 2, computeDType }));
    tape.backward(loss, lossScale);
    await optimizer.update();
    optimizer.zeroGrad();
    losses.push((await loss.read())[0]);
    loss.dispose();
  }
  optimizer.dispose();
  model.dispose();
  return losses;
}

describe('training', () => {
  test('tiny model overfits a fixed batch', async () => {
    const curves = new Map<string, number[]>();
    for (const device of devices) {
      const losses = await trainCurve(device, 200);
      curves.set(device.kind, losses);
      // ln(12) ≈ 2.48 at the start; memorizing 13 targets drives it near zero.
      expect(losses[0], `${device.kind} initial loss`).toBeGreaterThan(2);
      expect(losses[199], `${device.kind} final loss`).toBeLessThan(0.05);
    }
    const cpu = curves.get('cpu')!;
    const gpu = curves.get('webgpu');
    if (gpu) {
      for (let step = 0; step < 200; step += 10) {
        expect(Math.abs(gpu[step] - cpu[step]), `loss at step ${step}: cpu ${cpu[step]}, webgpu ${gpu[step]}`).toBeLessThan(1e-3);
      }
    }
  }, 300_000);

  test('f16 activations train on webgpu', async (context) => {
    const gpu = devices.find((device) => device.kind === 'webgpu' && device.supportsDType('f16'));
    if (!gpu) {
      context.skip();
      return;
    }
    const losses = await trainCurve(gpu, 100, true);
    expect(losses[0]).toBeGreaterThan(2);
    expect(losses[99]).toBeLessThan(0.05);
  }, 300_000);
});
