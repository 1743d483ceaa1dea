/**
 * The calibration sample builders, as pure functions of a seeded
 * generator and a tokenized pool of documents or examples:
 *
 * - `windowSamples`: draw documents uniformly until one has more than seqlen
 *   tokens, then a start uniformly in [0, len - seqlen - 1] (SparseGPT's C4
 *   loader, kept by the reference for every pre-training corpus);
 * - `concatSamples`: draw examples uniformly, each tokenized separately with
 *   its own BOS, and append until the concatenation exceeds seqlen; then a
 *   random seqlen window (the reference's `concat`, used for its ICL and CoT formats);
 * - `paddedSamples`: one example padded to seqlen (`single` and `zero`);
 * - `fixedConcatSamples`: exactly K examples, padded to seqlen (`--num_incontext`).
 *
 * Every draw comes from core's `Random`, so a seed gives the same samples on
 * every machine. "The reference" is the code of Bandari et al., "Is C4 Dataset
 * Optimal for Pruning?" (EMNLP 2024), whose calibration loaders these mirror.
 */
import { InputError, Random, throwIfAborted } from '@sculpt/core';
import type { PaddingSide, RecordProvenance, RunMode, SampleProvenance, Split } from '../types.js';

/** A pool of documents or examples, tokenized on first use. */
export interface TokenPool {
  readonly count: number;
  tokens(index: number): Int32Array;
  provenance(index: number): RecordProvenance;
  /** For error messages, e.g. "gsm8k train (/data/gsm8k/train.jsonl)". */
  readonly description: string;
}

export interface SamplerOptions {
  nsamples: number;
  seqlen: number;
  random: Random;
  dataset: string;
  split: Split;
  maxAttempts: number;
  signal?: AbortSignal;
  onSample?: () => void;
}

export interface BuiltSamples {
  samples: Int32Array[];
  attentionMask?: Uint8Array[];
  provenance: SampleProvenance[];
}

/**
 * Draws random windows of single documents. Windows are seqlen tokens long,
 * or `short.length` tokens left-padded to seqlen when `short` is given.
 */
export function windowSamples(pool: TokenPool, options: SamplerOptions, short?: PaddingOptions & { length: number }): BuiltSamples {
  const { nsamples, random } = options;
  const seqlen = short?.length ?? options.seqlen;
  if (pool.count === 0) throw new InputError(`${pool.description} has no documents`);
  const samples: Int32Array[] = [];
  const provenance: SampleProvenance[] = [];
  const checked = new Set<number>();
  let longest = 0;

  for (let sample = 0; sample < nsamples; sample++) {
    throwIfAborted(options.signal);
    let chosen: { index: number; tokens: Int32Array } | undefined;
    for (let attempt = 0; attempt < options.maxAttempts && chosen === undefined; attempt++) {
      const index = random.int(0, pool.count - 1);
      const tokens = pool.tokens(index);
      longest = Math.max(longest, tokens.length);
      checked.add(index);
      if (tokens.length > seqlen) chosen = { index, tokens };
      // Every document has been seen and none is long enough: stop early instead of spinning.
      else if (checked.size === pool.count && longest <= seqlen) break;
    }
    if (chosen === undefined) {
      throw new InputError(
        `no document of ${pool.description} has more than seqlen=${seqlen} tokens ` +
          `(longest found: ${longest} tokens in ${checked.size} of ${pool.count} documents checked); use a smaller --seqlen or a corpus with longer documents`,
      );
    }

    const start = random.int(0, chosen.tokens.length - seqlen - 1);
    samples.push(chosen.tokens.slice(start, start + seqlen));
    options.onSample?.();
    provenance.push({ dataset: options.dataset, split: options.split, records: [pool.provenance(chosen.index)], offset: start });
  }
  if (short === undefined) return { samples, provenance };

  // The reference's C4 --data_seqlen: left-pad every window, whatever the padding side.
  const padded = samples.map((window) => padTo(window, options.seqlen, { ...short, side: 'left' }));
  return { samples: padded.map((entry) => entry.ids), attentionMask: padded.map((entry) => entry.mask), provenance };
}

/**
 * Pads tokens to seqlen and builds the attention mask: clean mode masks the
 * pads, faithful mode masks every position whose id equals the pad id, except
 * when `attendPads` is set (the reference's unmasked C4 --data_seqlen pads).
 */
export function padTo(tokens: Int32Array, seqlen: number, padding: PaddingOptions & { attendPads?: boolean }): { ids: Int32Array; mask: Uint8Array } {
  const ids = new Int32Array(seqlen).fill(padding.padId);
  const mask = new Uint8Array(seqlen);
  const start = padding.side === 'left' ? seqlen - tokens.length : 0;
  ids.set(tokens, start);

  if (padding.mode === 'faithful' && padding.attendPads === true) {
    mask.fill(1);
  } else if (padding.mode === 'faithful') {
    // The reference attends to every position whose id differs from the pad id.
    for (let i = 0; i < seqlen; i++) mask[i] = ids[i] === padding.padId ? 0 : 1;
  } else {
    mask.fill(1, start, start + tokens.length);
  }
  return { ids, mask };
}

/** Concatenates exactly `count` randomly drawn examples per sample and pads them to seqlen; draws that overflow seqlen are redrawn. */
export function fixedConcatSamples(pool: TokenPool, options: SamplerOptions, count: number, padding: PaddingOptions): BuiltSamples {
  const { nsamples, seqlen, random } = options;
  if (pool.count === 0) throw new InputError(`${pool.description} has no examples`);
  const samples: Int32Array[] = [];
  const attentionMask: Uint8Array[] = [];
  const provenance: SampleProvenance[] = [];
  let shortest = Infinity;

  for (let sample = 0; sample < nsamples; sample++) {
    throwIfAborted(options.signal);
    let chosen: number[] | undefined;
    let length = 0;
    for (let attempt = 0; attempt < options.maxAttempts && chosen === undefined; attempt++) {
      const indices = Array.from({ length: count }, () => random.int(0, pool.count - 1));
      length = indices.reduce((sum, index) => sum + pool.tokens(index).length, 0);
      shortest = Math.min(shortest, length);
      if (length <= seqlen) chosen = indices;
    }
    if (chosen === undefined) {
      throw new InputError(
        `no ${count} examples of ${pool.description} fit in seqlen=${seqlen} tokens after ${options.maxAttempts} draws ` +
          `(shortest found: ${shortest} tokens); use a larger --seqlen or fewer in-context examples`,
      );
    }

    const joined = new Int32Array(length);
    let at = 0;
    for (const index of chosen) {
      joined.set(pool.tokens(index), at);
      at += pool.tokens(index).length;
    }
    const { ids, mask } = padTo(joined, seqlen, padding);
    samples.push(ids);
    attentionMask.push(mask);
    options.onSample?.();
    provenance.push({ dataset: options.dataset, split: options.split, records: chosen.map((index) => pool.provenance(index)), offset: 0 });
  }
  return { samples, attentionMask, provenance };
}

/** Separately tokenized examples concatenated past seqlen, then a random seqlen window. */
export function concatSamples(pool: TokenPool, options: SamplerOptions): BuiltSamples {
  const { nsamples, seqlen, random } = options;
  if (pool.count === 0) throw new InputError(`${pool.description} has no examples`);
  const samples: Int32Array[] = [];
  const provenance: SampleProvenance[] = [];

  for (let sample = 0; sample < nsamples; sample++) {
    throwIfAborted(options.signal);
    const used: number[] = [];
    const parts: Int32Array[] = [];
    let length = 0;
    while (length <= seqlen) {
      const index = random.int(0, pool.count - 1);
      const tokens = pool.tokens(index);
      if (tokens.length === 0) throw new InputError(`example ${index} of ${pool.description} has no tokens`);
      used.push(index);
      parts.push(tokens);
      length += tokens.length;
    }

    const joined = new Int32Array(length);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    const start = random.int(0, length - seqlen - 1);
    samples.push(joined.slice(start, start + seqlen));
    options.onSample?.();
    provenance.push({ dataset: options.dataset, split: options.split, records: used.map((index) => pool.provenance(index)), offset: start });
  }
  return { samples, provenance };
}

export interface PaddingOptions {
  padId: number;
  side: PaddingSide;
  mode: RunMode;
}

/** Draws one example per sample and pads it to seqlen; examples longer than seqlen are redrawn. */
export function paddedSamples(pool: TokenPool, options: SamplerOptions, padding: PaddingOptions): BuiltSamples {
  const { nsamples, seqlen, random } = options;
  if (pool.count === 0) throw new InputError(`${pool.description} has no examples`);
  const samples: Int32Array[] = [];
  const attentionMask: Uint8Array[] = [];
  const provenance: SampleProvenance[] = [];
  const checked = new Set<number>();
  let shortest = Infinity;

  for (let sample = 0; sample < nsamples; sample++) {
    throwIfAborted(options.signal);
    let chosen: { index: number; tokens: Int32Array } | undefined;
    for (let attempt = 0; attempt < options.maxAttempts && chosen === undefined; attempt++) {
      const index = random.int(0, pool.count - 1);
      const tokens = pool.tokens(index);
      shortest = Math.min(shortest, tokens.length);
      checked.add(index);
      if (tokens.length <= seqlen) chosen = { index, tokens };
      else if (checked.size === pool.count && shortest > seqlen) break;
    }
    if (chosen === undefined) {
      throw new InputError(
        `no example of ${pool.description} fits in seqlen=${seqlen} tokens ` +
          `(shortest found: ${shortest} tokens in ${checked.size} of ${pool.count} examples checked); use a larger --seqlen`,
      );
    }

    const { ids, mask } = padTo(chosen.tokens, seqlen, padding);
    samples.push(ids);
    attentionMask.push(mask);
    options.onSample?.();
    provenance.push({ dataset: options.dataset, split: options.split, records: [pool.provenance(chosen.index)], offset: 0 });
  }
  return { samples, attentionMask, provenance };
}

/** Builds a pool over texts that tokenizes each text with BOS on first use and caches the result. */
export function textPool(
  texts: readonly string[],
  provenance: readonly RecordProvenance[],
  encode: (text: string) => number[],
  description: string,
): TokenPool {
  const cache = new Map<number, Int32Array>();
  return {
    count: texts.length,
    description,
    provenance: (index) => provenance[index],
    tokens(index) {
      let tokens = cache.get(index);
      if (tokens === undefined) {
        tokens = Int32Array.from(encode(texts[index]));
        cache.set(index, tokens);
      }
      return tokens;
    },
  };
}
