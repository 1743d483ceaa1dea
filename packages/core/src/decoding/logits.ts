/**
 * Numerics shared by the decoders. Everything is computed in float64 so the
 * log-probabilities of long sequences do not drift with float32 rounding.
 */
import { InputError } from '../errors.js';
import type { Random } from '../random.js';
import type { AllowedTokens, Logits } from './model.js';

/** Natural-log softmax of a logits row, in float64. Masked entries (-Infinity) stay -Infinity. */
export function logSoftmax(logits: Logits): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const out = new Float64Array(logits.length);
  if (max === -Infinity) return out.fill(-Infinity);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const logSum = max + Math.log(sum);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - logSum;
  return out;
}

/** Index of the largest value; the lowest index wins a tie, so results are deterministic. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > bestValue) {
      bestValue = values[i];
      best = i;
    }
  }
  return best;
}

/** Converts any AllowedTokens form to a mask of length vocabSize, validating ids. */
export function toMask(allowed: AllowedTokens, vocabSize: number): Uint8Array {
  if (allowed instanceof Uint8Array || Array.isArray(allowed)) {
    const list = allowed as Uint8Array | readonly boolean[];
    if (list.length !== vocabSize) {
      throw new InputError(`allowedTokens returned a mask of length ${list.length}, expected the vocabulary size ${vocabSize}`);
    }
    return Uint8Array.from(list as ArrayLike<number | boolean>, (v) => (v ? 1 : 0));
  }
  const mask = new Uint8Array(vocabSize);
  for (const id of allowed as ReadonlySet<number>) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new InputError(`allowedTokens returned token id ${id}, outside the vocabulary [0, ${vocabSize - 1}]`);
    }
    mask[id] = 1;
  }
  return mask;
}

/** Copy of the row in float64 with disallowed tokens set to -Infinity. */
export function applyMask(logits: Logits, mask: Uint8Array | undefined): Float64Array {
  const out = Float64Array.from(logits);
  if (mask) for (let i = 0; i < out.length; i++) if (mask[i] === 0) out[i] = -Infinity;
  return out;
}

export interface SamplingOptions {
  temperature: number;
  /** Keep only the k most likely tokens; 0 disables the filter. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 disables the filter. */
  topP: number;
}

/**
 * Draws a token from the processed distribution: temperature scaling, then
 * top-k, then top-p (nucleus) on what remains, then one uniform draw. A
 * temperature of 0 means argmax. Ties in the ordering go to the lower id.
 */
export function sampleToken(scores: Float64Array, options: SamplingOptions, random: Random): number {
  if (options.temperature === 0) return argmax(scores);

  let order: number[];
  if (options.topK > 0) {
    order = topTokens(scores, options.topK);
  } else {
    order = [];
    for (let i = 0; i < scores.length; i++) if (scores[i] !== -Infinity) order.push(i);
    order.sort((a, b) => scores[b] - scores[a] || a - b);
  }
  if (order.length === 0) return -1;

  let kept = order.length;
  const top = scores[order[0]] / options.temperature;
  const weights = new Float64Array(kept);
  let total = 0;
  for (let r = 0; r < kept; r++) {
    weights[r] = Math.exp(scores[order[r]] / options.temperature - top);
    total += weights[r];
  }

  if (options.topP < 1) {
    let cumulative = 0;
    for (let r = 0; r < kept; r++) {
      cumulative += weights[r] / total;
      // The token that crosses p is kept; the tolerance keeps p = sum of the top probabilities from adding one more token through rounding.
      if (cumulative >= options.topP - 1e-12) {
        kept = r + 1;
        break;
      }
    }
    total = 0;
    for (let r = 0; r < kept; r++) total += weights[r];
  }

  const target = random.nextFloat() * total;
  let cumulative = 0;
  for (let r = 0; r < kept; r++) {
    cumulative += weights[r];
    if (target < cumulative) return order[r];
  }
  return order[kept - 1];
}

/**
 * Finds the ids of the `k` largest finite scores, best first (lower id first
 * on a tie), in one pass with a small sorted buffer instead of sorting the
 * whole vocabulary.
 */
export function topTokens(scores: Float64Array, k: number): number[] {
  const ids: number[] = [];
  for (let token = 0; token < scores.length; token++) {
    const value = scores[token];
    if (value === -Infinity) continue;
    if (ids.length === k && value <= scores[ids[k - 1]]) continue;
    // Insert after every id whose score is greater or equal, so earlier (lower) ids win ties.
    let position = ids.length;
    while (position > 0 && scores[ids[position - 1]] < value) position--;
    ids.splice(position, 0, token);
    if (ids.length > k) ids.pop();
  }
  return ids;
}
