/**
 * Float32 reference operators of the decoder forward pass, on plain typed
 * arrays. Sums are accumulated in float64 (JS numbers) and rounded to float32
 * on store, which keeps results within float32 rounding of a float64 reference.
 *
 * These run on the CPU. The matrix products go through a `LinearKernel` so a
 * device kernel (onnxruntime, WebGPU) can replace the loop below.
 */
import type { Activation, ModelConfig } from './config.js';
import type { LinearWeights, NormWeights } from './weights.js';

/** Computes y = x Wᵀ + b for `rows` rows of x. */
export type LinearKernel = (x: Float32Array, rows: number, layer: LinearWeights) => Float32Array | Promise<Float32Array>;

/** Plain loop matmul: each output is a dot product of two contiguous rows. */
export const cpuLinear: LinearKernel = (x, rows, layer) => {
  const { inFeatures: n, outFeatures: m, weight, bias } = layer;
  const out = new Float32Array(rows * m);
  for (let r = 0; r < rows; r++) {
    const xOffset = r * n;
    for (let o = 0; o < m; o++) {
      const wOffset = o * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < n; i += 4) {
        s0 += x[xOffset + i] * weight[wOffset + i];
        s1 += x[xOffset + i + 1] * weight[wOffset + i + 1];
        s2 += x[xOffset + i + 2] * weight[wOffset + i + 2];
        s3 += x[xOffset + i + 3] * weight[wOffset + i + 3];
      }
      for (; i < n; i++) s0 += x[xOffset + i] * weight[wOffset + i];
      out[r * m + o] = s0 + s1 + s2 + s3 + (bias === undefined ? 0 : bias[o]);
    }
  }
  return out;
};

/** RMSNorm: x / sqrt(mean(x²) + eps) · w, per row. */
export function rmsNorm(x: Float32Array, rows: number, norm: NormWeights, eps: number): Float32Array {
  const dim = norm.weight.length;
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    const offset = r * dim;
    let sumSquares = 0;
    for (let i = 0; i < dim; i++) sumSquares += x[offset + i] * x[offset + i];
    const scale = 1 / Math.sqrt(sumSquares / dim + eps);
    for (let i = 0; i < dim; i++) out[offset + i] = x[offset + i] * scale * norm.weight[i];
  }
  return out;
}

/** LayerNorm: (x − mean) / sqrt(var + eps) · w + b, per row, with the biased variance. */
export function layerNorm(x: Float32Array, rows: number, norm: NormWeights, eps: number): Float32Array {
  const dim = norm.weight.length;
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    const offset = r * dim;
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[offset + i];
    mean /= dim;
    let variance = 0;
    for (let i = 0; i < dim; i++) variance += (x[offset + i] - mean) ** 2;
    const scale = 1 / Math.sqrt(variance / dim + eps);
    for (let i = 0; i < dim; i++) {
      out[offset + i] = (x[offset + i] - mean) * scale * norm.weight[i] + (norm.bias === undefined ? 0 : norm.bias[i]);
    }
  }
  return out;
}

/** Applies an elementwise activation in place. */
export function activate(x: Float32Array, activation: Activation): void {
  switch (activation) {
    case 'silu':
      for (let i = 0; i < x.length; i++) x[i] = x[i] / (1 + Math.exp(-x[i]));
      return;
    case 'relu':
      for (let i = 0; i < x.length; i++) x[i] = x[i] > 0 ? x[i] : 0;
      return;
    case 'gelu_tanh':
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        x[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
      }
      return;
    case 'gelu':
      for (let i = 0; i < x.length; i++) x[i] = 0.5 * x[i] * (1 + erf(x[i] / Math.SQRT2));
      return;
  }
}

/** erf with maximum absolute error about 1.2e-7 (Numerical Recipes' erfc Chebyshev fit). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const tau =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - tau : tau - 1;
}

/** Inverse frequencies θ^(−2i/d) of RoPE, after the config's `rope_scaling`. */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const inverse = new Float64Array(half);
  for (let i = 0; i < half; i++) inverse[i] = 1 / config.ropeTheta ** ((2 * i) / config.headDim);

  const scaling = config.ropeScaling;
  if (scaling?.type === 'linear') {
    for (let i = 0; i < half; i++) inverse[i] /= scaling.factor;
  } else if (scaling?.type === 'llama3') {
    // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
    // NOTE: no test compares this branch with reference logits of a Llama 3.1 checkpoint.
    const low = scaling.lowFreqFactor ?? 1;
    const high = scaling.highFreqFactor ?? 4;
    const original = scaling.originalMaxPositionEmbeddings ?? 8192;
    const lowWavelength = original / low;
    const highWavelength = original / high;
    for (let i = 0; i < half; i++) {
      const wavelength = (2 * Math.PI) / inverse[i];
      if (wavelength > lowWavelength) {
        inverse[i] /= scaling.factor;
      } else if (wavelength >= highWavelength) {
        const smooth = (original / wavelength - low) / (high - low);
        inverse[i] = (1 - smooth) * (inverse[i] / scaling.factor) + smooth * inverse[i];
      }
    }
  }
  return inverse;
}

/** Rotates q or k in place: `x` is [rows, heads · headDim], row r at position `positions[r]`. */
export function applyRope(x: Float32Array, rows: number, heads: number, positions: ArrayLike<number>, inverse: Float64Array, config: ModelConfig): void {
  const { headDim, ropeLayout } = config;
  const half = headDim / 2;
  for (let r = 0; r < rows; r++) {
    const position = positions[r];
    for (let i = 0; i < half; i++) {
      const angle = position * inverse[i];
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const base = (r * heads + h) * headDim;
        const a = ropeLayout === 'interleaved' ? base + 2 * i : base + i;
        const b = ropeLayout === 'interleaved' ? a + 1 : a + half;
        const x0 = x[a];
        const x1 = x[b];
        x[a] = x0 * cos - x1 * sin;
        x[b] = x0 * sin + x1 * cos;
      }
    }
  }
}

/** Computes attention for rows appended to a cache; see `attention` for the masking rules. */
export type AttentionKernel = (q: Float32Array, rows: number, cache: LayerCache, config: ModelConfig) => Float32Array | Promise<Float32Array>;

/** Key/value rows of one block seen so far in one sequence (the KV cache of one layer). */
export interface LayerCache {
  keys: Float32Array;
  values: Float32Array;
  /** Number of cached positions. */
  length: number;
  /** Whether each cached key may be attended (1) or is padding (0). */
  keyMask: Uint8Array;
}

export function createLayerCache(config: ModelConfig, capacity: number): LayerCache {
  const width = config.nKvHeads * config.headDim;
  return {
    keys: new Float32Array(capacity * width),
    values: new Float32Array(capacity * width),
    length: 0,
    keyMask: new Uint8Array(capacity),
  };
}

/**
 * Causal scaled-dot-product attention with grouped KV heads. `q` is [rows,
 * nHeads·headDim] for the rows appended after the cache's existing positions,
 * whose keys and values are already in the cache. Query row r attends to
 * cached key j when j ≤ its position, j is inside the sliding window, and key
 * j is not padding. A query always attends to itself, so no row is empty.
 */
export function attention(q: Float32Array, rows: number, cache: LayerCache, config: ModelConfig): Float32Array {
  const { nHeads, nKvHeads, headDim, slidingWindow } = config;
  const groupSize = nHeads / nKvHeads;
  const kvWidth = nKvHeads * headDim;
  const scale = 1 / Math.sqrt(headDim);
  const first = cache.length - rows;
  const out = new Float32Array(rows * nHeads * headDim);
  const scores = new Float64Array(cache.length);
  const accumulator = new Float64Array(headDim);
  const { keys, values, keyMask } = cache;

  for (let r = 0; r < rows; r++) {
    const self = first + r;
    const start = slidingWindow === undefined ? 0 : Math.max(0, self - slidingWindow + 1);
    for (let h = 0; h < nHeads; h++) {
      const qOffset = (r * nHeads + h) * headDim;
      const kvOffset = Math.floor(h / groupSize) * headDim;
      let max = -Infinity;
      for (let j = start; j <= self; j++) {
        if (j !== self && keyMask[j] === 0) {
          scores[j] = -Infinity;
          continue;
        }
        const kOffset = j * kvWidth + kvOffset;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[qOffset + d] * keys[kOffset + d];
        scores[j] = dot * scale;
        if (scores[j] > max) max = scores[j];
      }

      // Weighted sum of value rows, visiting each row contiguously.
      accumulator.fill(0);
      let total = 0;
      for (let j = start; j <= self; j++) {
        const weight = Math.exp(scores[j] - max);
        if (weight === 0) continue;
        total += weight;
        const vOffset = j * kvWidth + kvOffset;
        for (let d = 0; d < headDim; d++) accumulator[d] += weight * values[vOffset + d];
      }
      for (let d = 0; d < headDim; d++) out[qOffset + d] = accumulator[d] / total;
    }
  }
  return out;
}

/** Adds b to a in place. */
export function addInPlace(a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}
