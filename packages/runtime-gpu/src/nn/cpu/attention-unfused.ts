/**
 * Attention on the cpu with the matrix products in onnxruntime-node: the score
 * matrix of each (batch, head) is materialized, masked and normalized in
 * TypeScript, and multiplied through batched MatMul graphs. This is the
 * unfused form (ORT's MatMul is one to two orders of magnitude faster than a
 * TypeScript loop), used while batch·heads·queries·keys stays under
 * UNFUSED_SCORE_LIMIT. Results equal the fused kernel in attention.ts up to f32
 * rounding. The backward pass recomputes the probabilities from the saved
 * logsumexp, as the fused one does.
 */
import type { OrtSessionCache } from '../../cpu/ort-sessions.js';
import { GraphBuilder } from '../../onnx/index.js';
import type { AttentionGradients, AttentionParams } from './attention.js';

/** Largest score tensor (elements) the unfused path allocates: 2^25 f32 values, 128 MiB. */
export const UNFUSED_SCORE_LIMIT = 2 ** 25;

type Transpose = 'none' | 'a' | 'b';

function matmulGraph(transpose: Transpose): Uint8Array {
  const builder = new GraphBuilder(`nn-batched-matmul-${transpose}`);
  const a = builder.input('a', ['n', 'p', 'q']);
  const b = builder.input('b', ['n', 'r', 's']);
  const left = transpose === 'a' ? builder.node('Transpose', [a], { perm: [0, 2, 1] })[0] : a;
  const right = transpose === 'b' ? builder.node('Transpose', [b], { perm: [0, 2, 1] })[0] : b;
  builder.node('MatMul', [left, right], {}, ['c']);
  builder.output('c');
  return builder.build();
}

/** Batched product of a [n, p, q] and b [n, r, s] with an optional transpose of one operand. */
async function batchedMatmul(
  sessions: OrtSessionCache,
  a: Float32Array,
  aDims: number[],
  b: Float32Array,
  bDims: number[],
  transpose: Transpose,
): Promise<Float32Array> {
  const [output] = await sessions.run(`nn.batchedMatmul.${transpose}`, () => matmulGraph(transpose), {
    a: { data: a, dims: aDims },
    b: { data: b, dims: bDims },
  });
  return output;
}

/** Copies q-like [batch, rows, heads·D] rows into head-major [batch·heads, rows, D]. */
function toHeadMajor(x: Float32Array, batch: number, rows: number, rowStride: number, heads: number, sourceHeads: number, headDim: number): Float32Array {
  const out = new Float32Array(batch * heads * rows * headDim);
  const group = heads / sourceHeads;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const source = Math.floor(h / group);
      for (let r = 0; r < rows; r++) {
        const from = ((b * rowStride + r) * sourceHeads + source) * headDim;
        out.set(x.subarray(from, from + headDim), ((b * heads + h) * rows + r) * headDim);
      }
    }
  }
  return out;
}

/** Inverse of toHeadMajor; with fewer target heads, the heads of a group are summed. */
function fromHeadMajor(x: Float32Array, batch: number, rows: number, rowStride: number, heads: number, targetHeads: number, headDim: number): Float32Array {
  const out = new Float32Array(batch * rowStride * targetHeads * headDim);
  const group = heads / targetHeads;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const target = Math.floor(h / group);
      for (let r = 0; r < rows; r++) {
        const from = ((b * heads + h) * rows + r) * headDim;
        const to = ((b * rowStride + r) * targetHeads + target) * headDim;
        for (let d = 0; d < headDim; d++) out[to + d] += x[from + d];
      }
    }
  }
  return out;
}

/**
 * Turns raw scores [batch·heads, queries, keys] into probabilities in place:
 * scaled, masked (masked entries become 0) and normalized with the given or a
 * freshly computed logsumexp per row. Returns the logsumexp (-Infinity for rows with no visible key).
 */
function normalizeScores(scores: Float32Array, params: AttentionParams, keyMask: Float32Array | undefined, saved?: Float32Array): Float32Array {
  const { batch, heads, queryLength, keyLength, keyCapacity, causal, scale } = params;
  const logSumExp = saved ?? new Float32Array(batch * heads * queryLength);
  const offset = keyLength - queryLength;

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < queryLength; i++) {
        const row = (b * heads + h) * queryLength + i;
        const base = row * keyLength;
        const limit = causal ? Math.max(0, Math.min(keyLength, i + offset + 1)) : keyLength;
        for (let j = 0; j < keyLength; j++) {
          const hidden = j >= limit || (keyMask !== undefined && keyMask[b * keyCapacity + j] === 0);
          scores[base + j] = hidden ? -Infinity : scores[base + j] * scale;
        }

        let lse = logSumExp[row];
        if (saved === undefined) {
          let max = -Infinity;
          for (let j = 0; j < keyLength; j++) max = Math.max(max, scores[base + j]);
          let sum = 0;
          if (max !== -Infinity) for (let j = 0; j < keyLength; j++) sum += Math.exp(scores[base + j] - max);
          lse = sum > 0 ? max + Math.log(sum) : -Infinity;
          logSumExp[row] = lse;
        }
        for (let j = 0; j < keyLength; j++) scores[base + j] = lse === -Infinity ? 0 : Math.exp(scores[base + j] - lse);
      }
    }
  }
  return logSumExp;
}

export function unfusedFits(params: AttentionParams): boolean {
  return params.batch * params.heads * params.queryLength * params.keyLength <= UNFUSED_SCORE_LIMIT;
}

export async function attentionForwardUnfused(
  sessions: OrtSessionCache,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  params: AttentionParams,
  keyMask?: Float32Array,
): Promise<{ out: Float32Array; logSumExp: Float32Array }> {
  const { batch, queryLength, keyLength, keyCapacity, heads, kvHeads, headDim } = params;
  const groups = batch * heads;
  const qh = toHeadMajor(q, batch, queryLength, queryLength, heads, heads, headDim);
  const kh = toHeadMajor(k, batch, keyLength, keyCapacity, heads, kvHeads, headDim);
  const vh = toHeadMajor(v, batch, keyLength, keyCapacity, heads, kvHeads, headDim);

  const probabilities = await batchedMatmul(sessions, qh, [groups, queryLength, headDim], kh, [groups, keyLength, headDim], 'b');
  const logSumExp = normalizeScores(probabilities, params, keyMask);
  const outHeads = await batchedMatmul(sessions, probabilities, [groups, queryLength, keyLength], vh, [groups, keyLength, headDim], 'none');
  return { out: fromHeadMajor(outHeads, batch, queryLength, queryLength, heads, heads, headDim), logSumExp };
}

export async function attentionBackwardUnfused(
  sessions: OrtSessionCache,
  dOut: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  logSumExp: Float32Array,
  params: AttentionParams,
  keyMask?: Float32Array,
): Promise<AttentionGradients> {
  const { batch, queryLength, keyLength, keyCapacity, heads, kvHeads, headDim, scale } = params;
  const groups = batch * heads;
  const qh = toHeadMajor(q, batch, queryLength, queryLength, heads, heads, headDim);
  const kh = toHeadMajor(k, batch, keyLength, keyCapacity, heads, kvHeads, headDim);
  const vh = toHeadMajor(v, batch, keyLength, keyCapacity, heads, kvHeads, headDim);
  const dOh = toHeadMajor(dOut, batch, queryLength, queryLength, heads, heads, headDim);
  const oh = toHeadMajor(out, batch, queryLength, queryLength, heads, heads, headDim);
  const scoreDims = [groups, queryLength, keyLength];
  const queryDims = [groups, queryLength, headDim];
  const keyDims = [groups, keyLength, headDim];

  const probabilities = await batchedMatmul(sessions, qh, queryDims, kh, keyDims, 'b');
  normalizeScores(probabilities, params, keyMask, logSumExp);
  const dVh = await batchedMatmul(sessions, probabilities, scoreDims, dOh, queryDims, 'a');

  // dS = P ⊙ (dO·Vᵀ − Δ)·scale with Δ = Σ_d dO·O per query row.
  const dScores = await batchedMatmul(sessions, dOh, queryDims, vh, keyDims, 'b');
  for (let row = 0; row < groups * queryLength; row++) {
    let delta = 0;
    for (let d = 0; d < headDim; d++) delta += dOh[row * headDim + d] * oh[row * headDim + d];
    const base = row * keyLength;
    for (let j = 0; j < keyLength; j++) dScores[base + j] = probabilities[base + j] * (dScores[base + j] - delta) * scale;
  }
  const dQh = await batchedMatmul(sessions, dScores, scoreDims, kh, keyDims, 'none');
  const dKh = await batchedMatmul(sessions, dScores, scoreDims, qh, queryDims, 'a');

  return {
    dq: fromHeadMajor(dQh, batch, queryLength, queryLength, heads, heads, headDim),
    dk: fromHeadMajor(dKh, batch, keyLength, keyCapacity, heads, kvHeads, headDim),
    dv: fromHeadMajor(dVh, batch, keyLength, keyCapacity, heads, kvHeads, headDim),
  };
}
