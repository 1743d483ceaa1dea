import { describe, expect, it } from 'vitest';
import { Random } from '@sculpt/core';
import { computePerplexity, cpuAttention, cpuLinear, createLayerCache, createOrtAttention, createOrtLinear, halfToInterleaved, interleavedToHalf, joinForPerplexity, type ModelConfig } from '../../src/models/index.js';

function reference(x: Float32Array, rows: number, weight: Float32Array, bias: Float32Array, out: number): Float64Array {
  const n = x.length / rows;
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let sum = bias[o];
      for (let i = 0; i < n; i++) sum += x[r * n + i] * weight[o * n + i];
      y[r * out + o] = sum;
    }
  }
  return y;
}

describe('linear kernels', () => {
  it.each([
    ['plain loop', 3, 7, 5],
    ['onnxruntime Gemm', 64, 96, 80],
  ])('%s matches float64', async (_, rows, inFeatures, outFeatures) => {
    const random = new Random(3);
    const x = Float32Array.from({ length: rows * inFeatures }, () => random.normal());
    const weight = Float32Array.from({ length: outFeatures * inFeatures }, () => random.normal());
    const bias = Float32Array.from({ length: outFeatures }, () => random.normal());
    const kernel = createOrtLinear({ minWork: 1000 });
    const layer = { inFeatures, outFeatures, weight, bias };
    const y = rows * inFeatures * outFeatures < 1000 ? await cpuLinear(x, rows, layer) : await kernel(x, rows, layer);
    const expected = reference(x, rows, weight, bias, outFeatures);
    for (let i = 0; i < expected.length; i++) expect(Math.abs(y[i] - expected[i])).toBeLessThan(1e-4 * (1 + Math.abs(expected[i])));
    await kernel.dispose();
  });
});

describe('attention kernels', () => {
  it.each([
    ['causal GQA', undefined, []],
    ['padding and window', 5, [0, 3, 4]],
  ])('onnxruntime equals plain loop: %s', async (_, slidingWindow, padded) => {
    const rows = 70;
    const config = { nHeads: 6, nKvHeads: 2, headDim: 8, slidingWindow } as ModelConfig;
    const cache = createLayerCache(config, rows);
    const random = new Random(9);
    for (let i = 0; i < cache.keys.length; i++) {
      cache.keys[i] = random.normal();
      cache.values[i] = random.normal();
    }
    cache.length = rows;
    cache.keyMask.fill(1);
    for (const index of padded as number[]) cache.keyMask[index] = 0;
    const q = Float32Array.from({ length: rows * 48 }, () => random.normal());
    const kernel = createOrtAttention({ minRows: 1 });
    const got = await kernel(q, rows, cache, config);
    const expected = cpuAttention(q, rows, cache, config);
    for (let i = 0; i < expected.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-5);
    await kernel.dispose();
  });
});

describe('RoPE layouts', () => {
  it('permutations invert each other', () => {
    const matrix = Float32Array.from({ length: 2 * 8 * 3 }, (_, i) => i);
    const half = interleavedToHalf(matrix, 2, 8, 3);
    // Row 1 of head 0 (channel pair 0, second element) moves to row 4 (headDim/2 + 0).
    expect(Array.from(half.subarray(4 * 3, 5 * 3))).toEqual([3, 4, 5]);
    expect(Array.from(halfToInterleaved(half, 2, 8, 3))).toEqual(Array.from(matrix));
  });
});

describe('perplexity', () => {
  it('uniform model gives vocabulary size', async () => {
    const tokens = Array.from({ length: 23 }, (_, i) => i % 7);
    const result = await computePerplexity(tokens, 5, 7, async (window) => new Float32Array(window.length * 7));
    expect(result.windows).toBe(4);
    expect(result.predictedTokens).toBe(16);
    expect(result.perplexity).toBeCloseTo(7, 10);
  });

  it('sums NLL over predicted tokens', async () => {
    // Logit 1 on the next token and 0 elsewhere: each prediction has p = e / (e + vocab − 1).
    const vocab = 4;
    const tokens = [0, 1, 2, 3, 0, 1, 2, 3];
    const result = await computePerplexity(tokens, 4, vocab, async (window) => {
      const logits = new Float32Array(window.length * vocab);
      for (let t = 0; t < window.length; t++) logits[t * vocab + ((window[t] + 1) % vocab)] = 1;
      return logits;
    });
    const nll = -Math.log(Math.E / (Math.E + vocab - 1));
    expect(result.totalNll).toBeCloseTo(6 * nll, 10);
    expect(result.perplexity).toBeCloseTo(Math.exp(nll), 10);
  });

  it('rejects text shorter than a window', async () => {
    await expect(computePerplexity([1, 2, 3], 4, 5, async () => new Float32Array(0))).rejects.toThrow(/fewer than one window of 4/);
  });

  it('joins rows with blank lines', () => {
    expect(joinForPerplexity([' a \n', ' b \n'])).toBe(' a \n\n\n b \n');
  });
});
