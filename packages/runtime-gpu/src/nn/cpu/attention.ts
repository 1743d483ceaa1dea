/**
 * Multi-head attention on the cpu: a fused forward with online softmax that saves
 * each query row's logsumexp, and an exact backward that recomputes the
 * probabilities from that logsumexp instead of storing the score matrix.
 *
 * Layout: q is [batch, queryLength, heads·headDim]; k and v are
 * [batch, keyCapacity, kvHeads·headDim] of which the first keyLength rows are used
 * (keyCapacity > keyLength for a KV cache). Query head h reads kv head
 * floor(h / (heads / kvHeads)) (grouped-query attention).
 */
import type { AttentionShape } from '../reference.js';

export interface AttentionParams extends AttentionShape {
  /** Rows allocated per batch entry in k and v; at least keyLength. */
  keyCapacity: number;
}

/** Returns the number of leading keys query i may see: all of them, or up to its causal position. */
function keyLimit(params: AttentionParams, i: number): number {
  if (!params.causal) return params.keyLength;
  return Math.max(0, Math.min(params.keyLength, i + params.keyLength - params.queryLength + 1));
}

/** Returns whether key j of batch entry b is padding. */
function masked(params: AttentionParams, keyMask: Float32Array | undefined, b: number, j: number): boolean {
  return keyMask !== undefined && keyMask[b * params.keyCapacity + j] === 0;
}

export interface AttentionForward {
  out: Float32Array;
  /** logsumexp of the scaled scores per (batch, head, query); -Infinity when no key is visible. */
  logSumExp: Float32Array;
}

export function attentionForward(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  params: AttentionParams,
  keyMask?: Float32Array,
): AttentionForward {
  const { batch, queryLength, keyLength, heads, kvHeads, headDim, scale, keyCapacity } = params;
  const group = heads / kvHeads;
  const out = new Float32Array(batch * queryLength * heads * headDim);
  const logSumExp = new Float32Array(batch * heads * queryLength);
  const accumulator = new Float64Array(headDim);
  const query = new Float64Array(headDim);
  const keyStride = kvHeads * headDim;

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kvBase = (b * keyCapacity * kvHeads + Math.floor(h / group)) * headDim;
      for (let i = 0; i < queryLength; i++) {
        const qBase = ((b * queryLength + i) * heads + h) * headDim;
        for (let d = 0; d < headDim; d++) query[d] = q[qBase + d] * scale;
        let max = -Infinity;
        let denominator = 0;
        accumulator.fill(0);

        const limit = keyLimit(params, i);
        for (let j = 0; j < limit; j++) {
          if (masked(params, keyMask, b, j)) continue;
          const kRow = kvBase + j * keyStride;
          let score = 0;
          for (let d = 0; d < headDim; d++) score += query[d] * k[kRow + d];

          // Online softmax: rescale what was accumulated under the old max.
          const newMax = Math.max(max, score);
          const correction = Math.exp(max - newMax);
          const weight = Math.exp(score - newMax);
          denominator = denominator * correction + weight;
          for (let d = 0; d < headDim; d++) accumulator[d] = accumulator[d] * correction + weight * v[kRow + d];
          max = newMax;
        }

        logSumExp[(b * heads + h) * queryLength + i] = denominator > 0 ? max + Math.log(denominator) : -Infinity;
        if (denominator === 0) continue;
        for (let d = 0; d < headDim; d++) out[qBase + d] = accumulator[d] / denominator;
      }
    }
  }
  return { out, logSumExp };
}

export interface AttentionGradients {
  dq: Float32Array;
  dk: Float32Array;
  dv: Float32Array;
}

/**
 * With P = exp(S − lse), Δ_i = Σ_d dO·O: dV = Pᵀ·dO, dS = P ⊙ (dO·Vᵀ − Δ), dQ = scale·dS·K,
 * dK = scale·dSᵀ·Q, summed over the query heads that share a kv head.
 */
export function attentionBackward(
  dOut: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  logSumExp: Float32Array,
  params: AttentionParams,
  keyMask?: Float32Array,
): AttentionGradients {
  const { batch, queryLength, heads, kvHeads, headDim, scale, keyCapacity } = params;
  const group = heads / kvHeads;
  const keyStride = kvHeads * headDim;
  const dq = new Float32Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kvBase = (b * keyCapacity * kvHeads + Math.floor(h / group)) * headDim;
      for (let i = 0; i < queryLength; i++) {
        const lse = logSumExp[(b * heads + h) * queryLength + i];
        if (lse === -Infinity) continue;
        const qBase = ((b * queryLength + i) * heads + h) * headDim;
        let delta = 0;
        for (let d = 0; d < headDim; d++) delta += dOut[qBase + d] * out[qBase + d];

        const limit = keyLimit(params, i);
        for (let j = 0; j < limit; j++) {
          if (masked(params, keyMask, b, j)) continue;
          const kRow = kvBase + j * keyStride;
          let dot = 0;
          let dProb = 0;
          for (let d = 0; d < headDim; d++) {
            dot += q[qBase + d] * k[kRow + d];
            dProb += dOut[qBase + d] * v[kRow + d];
          }
          const prob = Math.exp(dot * scale - lse);
          const dScore = prob * (dProb - delta) * scale;
          for (let d = 0; d < headDim; d++) {
            dv[kRow + d] += prob * dOut[qBase + d];
            dq[qBase + d] += dScore * k[kRow + d];
            dk[kRow + d] += dScore * q[qBase + d];
          }
        }
      }
    }
  }
  return { dq, dk: Float32Array.from(dk), dv: Float32Array.from(dv) };
}
