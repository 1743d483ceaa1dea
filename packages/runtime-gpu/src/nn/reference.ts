/**
 * Float64 reference implementations of the transformer forward ops.
 *
 * These are the oracles for the cpu and webgpu kernels and for the
 * finite-difference gradient checks. They favour the plainest loop that is
 * obviously right over speed, and they never share code with the kernels they
 * check. Layouts match the kernels: activations are row-major [rows, features],
 * attention inputs are [batch, seq, heads * headDim].
 */

export type RopeLayout = 'interleaved' | 'half';

/** Options shared by the attention reference and kernels. */
export interface AttentionShape {
  batch: number;
  queryLength: number;
  keyLength: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  causal: boolean;
  /** Softmax scale, usually 1 / sqrt(headDim). */
  scale: number;
}

export function embeddingRef(table: Float64Array, dim: number, ids: ArrayLike<number>): Float64Array {
  const out = new Float64Array(ids.length * dim);
  for (let t = 0; t < ids.length; t++) {
    for (let c = 0; c < dim; c++) out[t * dim + c] = table[ids[t] * dim + c];
  }
  return out;
}

/** Inverse frequency of rotary pair i for a head of size headDim. */
export function ropeInverseFrequency(i: number, headDim: number, theta: number): number {
  return Math.pow(theta, (-2 * i) / headDim);
}

/**
 * Rotates every head of x [tokens, heads * headDim] by its token position.
 * `interleaved` pairs (2i, 2i+1) as llama2.c does; `half` pairs (i, i + headDim/2)
 * as HF Llama does. Positions are divided by `scaling` (linear position interpolation).
 */
export function ropeRef(
  x: Float64Array,
  positions: ArrayLike<number>,
  heads: number,
  headDim: number,
  theta: number,
  layout: RopeLayout,
  scaling = 1,
): Float64Array {
  const out = new Float64Array(x.length);
  const half = headDim / 2;
  for (let t = 0; t < positions.length; t++) {
    const position = positions[t] / scaling;
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = position * ropeInverseFrequency(i, headDim, theta);
        const a = layout === 'interleaved' ? base + 2 * i : base + i;
        const b = layout === 'interleaved' ? base + 2 * i + 1 : base + i + half;
        out[a] = x[a] * Math.cos(angle) - x[b] * Math.sin(angle);
        out[b] = x[a] * Math.sin(angle) + x[b] * Math.cos(angle);
      }
    }
  }
  return out;
}

export function rmsNormRef(x: Float64Array, weight: Float64Array, dim: number, eps: number): Float64Array {
  const rows = x.length / dim;
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let squares = 0;
    for (let c = 0; c < dim; c++) squares += x[r * dim + c] ** 2;
    const inv = 1 / Math.sqrt(squares / dim + eps);
    for (let c = 0; c < dim; c++) out[r * dim + c] = x[r * dim + c] * inv * weight[c];
  }
  return out;
}

export function layerNormRef(
  x: Float64Array,
  weight: Float64Array,
  bias: Float64Array | undefined,
  dim: number,
  eps: number,
): Float64Array {
  const rows = x.length / dim;
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < dim; c++) mean += x[r * dim + c];
    mean /= dim;
    let variance = 0;
    for (let c = 0; c < dim; c++) variance += (x[r * dim + c] - mean) ** 2;
    variance /= dim;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < dim; c++) {
      out[r * dim + c] = (x[r * dim + c] - mean) * inv * weight[c] + (bias ? bias[c] : 0);
    }
  }
  return out;
}

export type ActivationName = 'silu' | 'gelu_tanh' | 'gelu_erf' | 'relu';

/** Computes erf to near double precision (a Maclaurin series, or a continued fraction for |x| ≥ 3), as the gradient checks need. */
export function erfRef(x: number): number {
  // Maclaurin series converges fast for |x| < 3; beyond that erf is 1 to 1e-4 and the
  // continued fraction for erfc keeps the tail precise.
  const sign = Math.sign(x);
  const a = Math.abs(x);
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return (sign * 2 * sum) / Math.sqrt(Math.PI);
  }
  let fraction = 0;
  for (let n = 60; n >= 1; n--) fraction = n / 2 / (a + fraction);
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + fraction);
  return sign * (1 - erfc);
}

export function activationRef(name: ActivationName, x: number): number {
  switch (name) {
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'relu':
      return x > 0 ? x : 0;
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'gelu_erf':
      return 0.5 * x * (1 + erfRef(x / Math.SQRT2));
  }
}

/** SwiGLU: activation(gate) * up, elementwise. */
export function swigluRef(gate: Float64Array, up: Float64Array): Float64Array {
  return gate.map((g, i) => activationRef('silu', g) * up[i]);
}

export function softmaxRef(x: Float64Array, dim: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    const row = x.subarray(r * dim, (r + 1) * dim);
    const max = Math.max(...row);
    let sum = 0;
    for (let c = 0; c < dim; c++) sum += Math.exp(row[c] - max);
    for (let c = 0; c < dim; c++) out[r * dim + c] = Math.exp(row[c] - max) / sum;
  }
  return out;
}

export function logSoftmaxRef(x: Float64Array, dim: number): Float64Array {
  return softmaxRef(x, dim).map(Math.log);
}

/** Mean negative log-likelihood over targets that differ from ignoreIndex; 0 when all are ignored. */
export function crossEntropyRef(logits: Float64Array, vocab: number, targets: ArrayLike<number>, ignoreIndex: number): number {
  const logProbs = logSoftmaxRef(logits, vocab);
  let total = 0;
  let count = 0;
  for (let r = 0; r < targets.length; r++) {
    if (targets[r] === ignoreIndex) continue;
    total -= logProbs[r * vocab + targets[r]];
    count++;
  }
  return count === 0 ? 0 : total / count;
}

/** out[m, n] = sum_k a[m, k] * b[k, n], with optional transposes of the stored operands. */
export function matmulRef(
  a: Float64Array,
  b: Float64Array,
  m: number,
  k: number,
  n: number,
  transA = false,
  transB = false,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i] : a[i * k + p];
        const bv = transB ? b[j * k + p] : b[p * n + j];
        sum += av * bv;
      }
      out[i * n + j] = sum;
    }
  }
  return out;
}

/**
 * Scaled dot-product attention computed by materializing the score matrix.
 * Key j is visible to query i when it is not padded and, if causal, when
 * j <= i + (keyLength - queryLength), so queries are the last positions of the
 * key sequence (the KV-cache convention). A query with no visible key outputs zeros.
 */
export function attentionRef(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  shape: AttentionShape,
  keyMask?: ArrayLike<number>,
): Float64Array {
  const { batch, queryLength, keyLength, heads, kvHeads, headDim, causal, scale } = shape;
  const out = new Float64Array(batch * queryLength * heads * headDim);
  const group = heads / kvHeads;
  const offset = keyLength - queryLength;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < queryLength; i++) {
        const scores: number[] = [];
        const visible: number[] = [];
        for (let j = 0; j < keyLength; j++) {
          if (causal && j > i + offset) continue;
          if (keyMask && keyMask[b * keyLength + j] === 0) continue;
          let dot = 0;
          for (let d = 0; d < headDim; d++) {
            dot += q[((b * queryLength + i) * heads + h) * headDim + d] * k[((b * keyLength + j) * kvHeads + kvh) * headDim + d];
          }
          scores.push(dot * scale);
          visible.push(j);
        }
        if (visible.length === 0) continue;
        const probs = softmaxRef(Float64Array.from(scores), scores.length);
        for (let d = 0; d < headDim; d++) {
          let sum = 0;
          for (let n = 0; n < visible.length; n++) {
            sum += probs[n] * v[((b * keyLength + visible[n]) * kvHeads + kvh) * headDim + d];
          }
          out[((b * queryLength + i) * heads + h) * headDim + d] = sum;
        }
      }
    }
  }
  return out;
}

/** AdamW with decoupled weight decay (Loshchilov & Hutter), bias-corrected moments; updates in place. */
export function adamwRef(
  param: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  step: number,
  options: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number },
): void {
  const { lr, beta1, beta2, eps, weightDecay } = options;
  for (let i = 0; i < param.length; i++) {
    m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
    v[i] = beta2 * v[i] + (1 - beta2) * grad[i] ** 2;
    const mHat = m[i] / (1 - beta1 ** step);
    const vHat = v[i] / (1 - beta2 ** step);
    param[i] -= lr * (mHat / (Math.sqrt(vHat) + eps) + weightDecay * param[i]);
  }
}
