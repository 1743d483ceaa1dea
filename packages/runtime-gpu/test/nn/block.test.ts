/**
 * Llama-style and GPT-style blocks against a float64 reference written here,
 * independently of the kernels and of src/nn/reference.ts. Also: KV-cache
 * decoding equals the full forward, linear-input hooks, weight replacement,
 * and fully masked rows.
 */
import { Random } from '@sculpt/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createCrossDecoderBlock,
  createDecoderBlock,
  disposeDevices,
  gptBlockConfig,
  llamaBlockConfig,
  nn,
  noGrad,
  type BlockConfig,
  type Device,
  type Tensor,
  type TransformerBlock,
  TransformerLM,
} from '../../src/index.js';
import { devicesUnderTest, relativeError } from './harness.js';

let devices: Device[] = [];
beforeAll(async () => {
  devices = await devicesUnderTest();
});
afterAll(async () => {
  await disposeDevices();
});

type Weights = Map<string, Float64Array>;

/** Computes y[t, o] = Σ_i x[t, i]·W[o, i] (+ b[o]). */
function linear64(x: Float64Array, w: Float64Array, b: Float64Array | undefined, inFeatures: number): Float64Array {
  const tokens = x.length / inFeatures;
  const outFeatures = w.length / inFeatures;
  const y = new Float64Array(tokens * outFeatures);
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < outFeatures; o++) {
      let sum = b ? b[o] : 0;
      for (let i = 0; i < inFeatures; i++) sum += x[t * inFeatures + i] * w[o * inFeatures + i];
      y[t * outFeatures + o] = sum;
    }
  }
  return y;
}

function norm64(x: Float64Array, w: Float64Array, b: Float64Array | undefined, dim: number, eps: number, kind: 'rms' | 'layer'): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    const row = Array.from(x.subarray(r * dim, (r + 1) * dim));
    const mean = kind === 'layer' ? row.reduce((a, v) => a + v, 0) / dim : 0;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / dim;
    row.forEach((v, c) => (y[r * dim + c] = ((v - mean) / Math.sqrt(variance + eps)) * w[c] + (b ? b[c] : 0)));
  }
  return y;
}

/** Applies half-split rotary encoding (HF Llama layout) to [tokens, heads·headDim]. */
function rope64(x: Float64Array, heads: number, headDim: number, seq: number, theta: number): Float64Array {
  const y = Float64Array.from(x);
  const half = headDim / 2;
  for (let t = 0; t < x.length / (heads * headDim); t++) {
    const position = t % seq;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const angle = position / theta ** ((2 * i) / headDim);
        const a = (t * heads + h) * headDim + i;
        y[a] = x[a] * Math.cos(angle) - x[a + half] * Math.sin(angle);
        y[a + half] = x[a] * Math.sin(angle) + x[a + half] * Math.cos(angle);
      }
    }
  }
  return y;
}

/** Computes causal grouped-query attention over [batch·seq, heads·headDim]. */
function attention64(q: Float64Array, k: Float64Array, v: Float64Array, batch: number, seq: number, heads: number, kvHeads: number, headDim: number): Float64Array {
  const out = new Float64Array(q.length);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / (heads / kvHeads));
      for (let i = 0; i < seq; i++) {
        const scores = [];
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[((b * seq + i) * heads + h) * headDim + d] * k[((b * seq + j) * kvHeads + kvh) * headDim + d];
          scores.push(dot / Math.sqrt(headDim));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, e) => a + e, 0);
        for (let d = 0; d < headDim; d++) {
          let sum = 0;
          for (let j = 0; j <= i; j++) sum += (exps[j] / total) * v[((b * seq + j) * kvHeads + kvh) * headDim + d];
          out[((b * seq + i) * heads + h) * headDim + d] = sum;
        }
      }
    }
  }
  return out;
}

function block64(x: Float64Array, weights: Weights, config: BlockConfig, batch: number, seq: number): Float64Array {
  const { dim, heads, kvHeads, hiddenDim, normEps } = config;
  const headDim = dim / heads;
  const get = (name: string) => weights.get(name)!;
  const norm = (input: Float64Array, name: string) => norm64(input, get(`${name}.weight`), weights.get(`${name}.bias`), dim, normEps, config.norm);
  const lin = (input: Float64Array, name: string, inFeatures: number) => linear64(input, get(`${name}.weight`), weights.get(`${name}.bias`), inFeatures);

  const normed = norm(x, 'attn_norm');
  let q = lin(normed, 'attn.q', dim);
  let k = lin(normed, 'attn.k', dim);
  const v = lin(normed, 'attn.v', dim);
  if (config.rope) {
    q = rope64(q, heads, headDim, seq, config.rope.theta);
    k = rope64(k, kvHeads, headDim, seq, config.rope.theta);
  }
  const attended = lin(attention64(q, k, v, batch, seq, heads, kvHeads, headDim), 'attn.o', dim);
  const h = x.map((value, i) => value + attended[i]);

  const normed2 = norm(h, 'mlp_norm');
  let hidden: Float64Array;
  if (config.mlp === 'glu') {
    const gate = lin(normed2, 'mlp.gate', dim);
    const up = lin(normed2, 'mlp.up', dim);
    hidden = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
  } else {
    const up = lin(normed2, 'mlp.up', dim);
    hidden = up.map((u) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3))));
  }
  const down = lin(hidden, 'mlp.down', hiddenDim);
  return h.map((value, i) => value + down[i]);
}

/** Random weights for every parameter of `block`, loaded into it and returned in float64. */
function loadRandomWeights(block: TransformerBlock, random: Random): Weights {
  const weights: Weights = new Map();
  for (const [name, tensor] of block.parameters()) {
    const isNormWeight = name.includes('norm') && name.endsWith('weight');
    const values = Float64Array.from({ length: tensor.size }, () => (isNormWeight ? 1 + 0.1 * random.normal() : 0.2 * random.normal()));
    weights.set(name, values);
    block.params.set(name, Float32Array.from(values));
  }
  return weights;
}

function positionsFor(device: Device, batch: number, seq: number): Tensor {
  return device.tensor(Int32Array.from({ length: batch * seq }, (_, t) => t % seq), [batch * seq], 'i32');
}

describe('transformer blocks', () => {
  test('two Llama blocks match float64 reference', async () => {
    const config = llamaBlockConfig({ dim: 16, heads: 4, kvHeads: 2, hiddenDim: 24, ropeLayout: 'half' });
    const [batch, seq] = [2, 5];
    for (const device of devices) {
      const random = new Random(3);
      const blocks = [createDecoderBlock(device, config), createDecoderBlock(device, config)];
      const weights = blocks.map((block) => loadRandomWeights(block, random));
      const input = Float64Array.from({ length: batch * seq * config.dim }, () => random.normal());

      let expected: Float64Array = input;
      for (const w of weights) expected = block64(expected, w, config, batch, seq);

      const positions = positionsFor(device, batch, seq);
      let x = device.tensor(input, [batch * seq, config.dim]);
      for (const block of blocks) x = block.forward(x, { batch, positions });
      const error = relativeError(await x.read(), expected);
      // Measured: 1.7e-7 on cpu, 2.4e-7 on webgpu (lavapipe).
      expect(error, `f32 max relative error on ${device.kind}`).toBeLessThan(2e-5);

      if (device.supportsDType('f16') && device.kind === 'webgpu') {
        let half = device.tensor(input, [batch * seq, config.dim], 'f16');
        for (const block of blocks) half = block.forward(half, { batch, positions, computeDType: 'f16' });
        expect(half.dtype).toBe('f16');
        // f16 storage keeps 11 significant bits: measured 1.1e-3 on lavapipe.
        expect(relativeError(await half.read(), expected), 'f16 max relative error on webgpu').toBeLessThan(1e-2);
      }
      for (const block of blocks) block.dispose();
    }
  });

  test('GPT block matches float64 reference', async () => {
    const config = gptBlockConfig({ dim: 12, heads: 3, hiddenDim: 20 });
    const [batch, seq] = [1, 6];
    for (const device of devices) {
      const random = new Random(5);
      const block = createDecoderBlock(device, config);
      const weights = loadRandomWeights(block, random);
      const input = Float64Array.from({ length: batch * seq * config.dim }, () => random.normal());
      const y = block.forward(device.tensor(input, [seq, config.dim]), { batch });
      expect(relativeError(await y.read(), block64(input, weights, config, batch, seq))).toBeLessThan(2e-5);
      block.dispose();
    }
  });

  test('KV cache decoding equals full forward', async () => {
    const config = llamaBlockConfig({ dim: 8, heads: 2, kvHeads: 1, hiddenDim: 12, ropeLayout: 'interleaved' });
    const [batch, seq] = [2, 4];
    for (const device of devices) {
      const random = new Random(9);
      const block = createDecoderBlock(device, config, { random, initStd: 0.3 });
      const input = Float64Array.from({ length: batch * seq * config.dim }, () => random.normal());
      const full = await block.forward(device.tensor(input, [batch * seq, config.dim]), { batch, positions: positionsFor(device, batch, seq) }).read();

      const cache = block.createCache(batch, 6);
      const steps: Float32Array[] = [];
      for (let t = 0; t < seq; t++) {
        const rows = new Float32Array(batch * config.dim);
        for (let b = 0; b < batch; b++) rows.set(input.subarray((b * seq + t) * config.dim, (b * seq + t + 1) * config.dim), b * config.dim);
        const positions = device.tensor([t, t], [batch], 'i32');
        const y = noGrad(() => block.forward(device.tensor(rows, [batch, config.dim]), { batch, positions, cache }));
        steps.push((await y.read()) as Float32Array);
      }
      const incremental = new Float32Array(full.length);
      for (let t = 0; t < seq; t++) {
        for (let b = 0; b < batch; b++) incremental.set(steps[t].subarray(b * config.dim, (b + 1) * config.dim), (b * seq + t) * config.dim);
      }
      expect(relativeError(incremental, full)).toBeLessThan(1e-5);
      expect(cache.length).toBe(seq);
      block.dispose();
    }
  });

  test('language model cached decoding matches', async () => {
    const config = gptBlockConfig({ dim: 8, heads: 2, hiddenDim: 16, activation: 'gelu_erf' });
    const seq = 5;
    for (const device of devices) {
      const model = new TransformerLM(device, { vocab: 10, layers: 2, block: config, maxSeqLen: seq, tiedEmbeddings: false }, new Random(8));
      const tokens = [3, 1, 4, 1, 5];
      const full = await noGrad(() => model.forward(device.tensor(tokens, [seq], 'i32'), device.tensor([0, 1, 2, 3, 4], [seq], 'i32'), { batch: 1 })).read();

      const caches = model.blocks.map((block) => block.createCache(1, seq));
      const stepped = new Float32Array(full.length);
      for (let t = 0; t < seq; t++) {
        const logits = noGrad(() => model.forward(device.tensor([tokens[t]], [1], 'i32'), device.tensor([t], [1], 'i32'), { batch: 1, caches }));
        stepped.set(await logits.read(), t * 10);
      }
      expect(relativeError(stepped, full)).toBeLessThan(1e-5);
      model.dispose();
    }
  });

  test('hooks see every linear input', async () => {
    const config = llamaBlockConfig({ dim: 8, heads: 2, hiddenDim: 12 });
    for (const device of devices) {
      const block = createDecoderBlock(device, config, { random: new Random(1) });
      const seen: [string, number[]][] = [];
      block.forward(device.tensor(new Float32Array(3 * 8).fill(0.5), [3, 8]), {
        batch: 1,
        positions: device.tensor([0, 1, 2], [3], 'i32'),
        onLinearInput: (name, input) => seen.push([name, [...input.shape]]),
      });
      expect(seen).toEqual([
        ['attn.q', [3, 8]],
        ['attn.k', [3, 8]],
        ['attn.v', [3, 8]],
        ['attn.o', [3, 8]],
        ['mlp.gate', [3, 8]],
        ['mlp.up', [3, 8]],
        ['mlp.down', [3, 12]],
      ]);
      block.dispose();
    }
  });

  test('replaced weights change the output', async () => {
    const config = gptBlockConfig({ dim: 4, heads: 1, hiddenDim: 8, activation: 'relu' });
    for (const device of devices) {
      const block = createDecoderBlock(device, config, { random: new Random(2) });
      const x = device.tensor(Float32Array.from({ length: 8 }, (_, i) => i / 8), [2, 4]);
      const before = await block.forward(x, { batch: 1 }).read();
      block.setLinearWeight('mlp.down', new Float32Array(4 * 8));
      expect(await block.linearWeight('mlp.down').read()).toEqual(new Float32Array(32));
      const after = await block.forward(x, { batch: 1 }).read();
      expect(relativeError(after, before)).toBeGreaterThan(1e-4);
      expect(() => block.setLinearWeight('mlp.down', new Float32Array(3))).toThrow(/shape/);
      block.dispose();
    }
  });

  test('fully masked query rows give zeros', async () => {
    for (const device of devices) {
      // Batch entry 1 masks every key, so all its queries see nothing.
      const mask = device.tensor([1, 1, 1, 0, 0, 0], [2, 3]);
      const random = new Random(4);
      const make = () => {
        const t = device.tensor(Float32Array.from({ length: 6 * 4 }, () => random.normal()), [6, 4]);
        t.requiresGrad = true;
        return t;
      };
      const [q, k, v] = [make(), make(), make()];
      const { recordTape } = await import('../../src/index.js');
      const { tape, result } = recordTape(() => nn.attention(q, k, v, { batch: 2, heads: 2, kvHeads: 2, headDim: 2, causal: false, keyMask: mask }));
      const out = await result.read();
      expect(Array.from(out.subarray(12))).toEqual(new Array(12).fill(0));
      tape.backward(result, device.tensor(new Float32Array(24).fill(1), [6, 4]));
      for (const tensor of [q, k, v]) {
        const grad = await tensor.grad!.read();
        expect(grad.every(Number.isFinite)).toBe(true);
        expect(Array.from(grad.subarray(12))).toEqual(new Array(12).fill(0));
      }
    }
  });

  test('embedding rejects out-of-range ids on cpu', async () => {
    const cpu = devices.find((device) => device.kind === 'cpu')!;
    const table = cpu.tensor(new Float32Array(6), [3, 2]);
    const out = nn.embedding(table, cpu.tensor([0, 3], [2], 'i32'));
    await expect(out.read()).rejects.toThrow(/token id 3 at position 1/);
  });

  test('cross-attention block runs with encoder memory', async () => {
    const config = llamaBlockConfig({ dim: 8, heads: 2, hiddenDim: 12 });
    for (const device of devices) {
      const block = createCrossDecoderBlock(device, config, { random: new Random(6) });
      const memory = device.tensor(Float32Array.from({ length: 5 * 8 }, (_, i) => Math.sin(i)), [5, 8]);
      const y = block.forward(device.tensor(new Float32Array(3 * 8).fill(0.1), [3, 8]), {
        batch: 1,
        positions: device.tensor([0, 1, 2], [3], 'i32'),
        memory,
        memoryMask: device.tensor([1, 1, 1, 1, 0], [1, 5]),
      });
      const values = await y.read();
      expect(values.every(Number.isFinite)).toBe(true);
      expect(block.linearLayers().map((layer) => layer.name)).toContain('cross.k');
      expect(() => block.forward(device.tensor(new Float32Array(8), [1, 8]), { batch: 1, positions: device.tensor([0], [1], 'i32') })).toThrow(/memory/);
      block.dispose();
    }
  });
});
