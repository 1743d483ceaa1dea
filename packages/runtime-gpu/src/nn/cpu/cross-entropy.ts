/**
 * Cross-entropy from logits, fused with log-softmax. Each row's logsumexp is
 * computed online over vocabulary chunks, so no probability matrix is allocated;
 * the backward pass writes dlogits = (softmax − onehot)·g/count directly.
 */

/** Vocabulary columns processed per chunk; keeps the running max/sum in registers on the GPU side too. */
export const CROSS_ENTROPY_CHUNK = 4096;

export interface CrossEntropyForward {
  loss: number;
  /** logsumexp per row, saved for backward. */
  logSumExp: Float32Array;
  /** Number of rows whose target is not ignoreIndex. */
  count: number;
}

export function crossEntropyForward(
  logits: Float32Array,
  vocab: number,
  targets: Int32Array,
  ignoreIndex: number,
): CrossEntropyForward {
  const rows = targets.length;
  const logSumExp = new Float32Array(rows);
  let total = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * vocab;
    let max = -Infinity;
    let sum = 0;
    for (let start = 0; start < vocab; start += CROSS_ENTROPY_CHUNK) {
      const end = Math.min(vocab, start + CROSS_ENTROPY_CHUNK);
      let chunkMax = -Infinity;
      for (let c = start; c < end; c++) chunkMax = Math.max(chunkMax, logits[base + c]);
      const newMax = Math.max(max, chunkMax);
      sum *= Math.exp(max - newMax);
      for (let c = start; c < end; c++) sum += Math.exp(logits[base + c] - newMax);
      max = newMax;
    }
    logSumExp[r] = max + Math.log(sum);
    const target = targets[r];
    if (target === ignoreIndex) continue;
    total += logSumExp[r] - logits[base + target];
    count++;
  }
  return { loss: count === 0 ? 0 : total / count, logSumExp, count };
}

export function crossEntropyBackward(
  gradLoss: number,
  logits: Float32Array,
  vocab: number,
  targets: Int32Array,
  ignoreIndex: number,
  logSumExp: Float32Array,
  count: number,
): Float32Array {
  const dLogits = new Float32Array(logits.length);
  if (count === 0) return dLogits;
  const scale = gradLoss / count;
  for (let r = 0; r < targets.length; r++) {
    const target = targets[r];
    if (target === ignoreIndex) continue;
    const base = r * vocab;
    const lse = logSumExp[r];
    for (let c = 0; c < vocab; c++) dLogits[base + c] = Math.exp(logits[base + c] - lse) * scale;
    dLogits[base + target] -= scale;
  }
  return dLogits;
}
