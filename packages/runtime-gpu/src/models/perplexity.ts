/**
 * Perplexity as the WikiText-2 evaluation of the pruning literature computes
 * it: the text is tokenized once, cut into non-overlapping windows of
 * `seqLen` tokens (the remainder is dropped), and
 * ppl = exp(total NLL / total predicted tokens), each window predicting its
 * tokens 1..seqLen−1 from the ones before. With equal windows this equals the
 * reference's exp(Σ mean-NLL·seqLen / (windows·seqLen)).
 */

export interface PerplexityResult {
  perplexity: number;
  /** Sum of −log p over every predicted token (natural log). */
  totalNll: number;
  predictedTokens: number;
  windows: number;
}

/** Joins dataset rows as the WikiText-2 evaluation does before tokenizing. */
export function joinForPerplexity(rows: readonly string[]): string {
  return rows.join('\n\n');
}

/** −log softmax(logits)[target], in float64. */
export function negativeLogLikelihood(logits: ArrayLike<number>, offset: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (logits[offset + v] > max) max = logits[offset + v];
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[offset + v] - max);
  return max + Math.log(sum) - logits[offset + target];
}

/**
 * Computes perplexity over `tokens` with `forward(window)` returning logits
 * [window.length, vocab]. `onWindow` reports progress.
 */
export async function computePerplexity(
  tokens: readonly number[],
  seqLen: number,
  vocab: number,
  forward: (window: number[]) => Promise<Float32Array>,
  options: { maxWindows?: number; onWindow?: (done: number, total: number) => void } = {},
): Promise<PerplexityResult> {
  if (!Number.isInteger(seqLen) || seqLen < 2) throw new RangeError(`seqLen must be an integer of at least 2, got ${seqLen}`);
  let windows = Math.floor(tokens.length / seqLen);
  if (windows === 0) throw new RangeError(`the text has ${tokens.length} tokens, fewer than one window of ${seqLen}`);
  if (options.maxWindows !== undefined) windows = Math.min(windows, options.maxWindows);

  let totalNll = 0;
  for (let w = 0; w < windows; w++) {
    const window = tokens.slice(w * seqLen, (w + 1) * seqLen) as number[];
    const logits = await forward(window);
    for (let t = 0; t + 1 < seqLen; t++) totalNll += negativeLogLikelihood(logits, t * vocab, vocab, window[t + 1]);
    options.onWindow?.(w + 1, windows);
  }
  const predictedTokens = windows * (seqLen - 1);
  return { perplexity: Math.exp(totalNll / predictedTokens), totalNll, predictedTokens, windows };
}
