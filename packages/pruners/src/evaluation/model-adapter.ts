/**
 * Adapts a loaded causal language model and its tokenizer to the evaluation
 * tasks: greedy generation with a KV cache, and log-likelihood of a
 * continuation. `CausalLM` from `@sculpt/runtime-gpu` satisfies
 * `GenerativeModel` structurally.
 */
import { getLogger } from '@sculpt/core';
import type { TaskModel } from '../tasks/runner.js';

const log = getLogger('pruners:evaluation');

export interface GenerativeModel<Cache = unknown> {
  config: { nLayers: number; vocabSize: number; maxSeqLen: number };
  embed(tokens: ArrayLike<number>, positions: ArrayLike<number>): Float32Array;
  runBlock(index: number, hidden: Float32Array, rows: number, positions: ArrayLike<number>, options?: { cache?: Cache }): Promise<Float32Array>;
  logits(hidden: Float32Array, rows: number): Promise<Float32Array>;
  createCache(capacity: number): Cache[];
}

export interface TextTokenizer {
  readonly bosId: number | null;
  readonly eosId: number | null;
  encode(text: string, options?: { bos?: boolean }): number[];
  decode(ids: ArrayLike<number>): string;
}

export interface ModelTaskAdapterStats {
  /** Prompts whose start was cut to fit the context window. */
  truncatedPrompts: number;
}

/**
 * Keeps BOS and the last tokens of a prompt longer than `limit` tokens, so the
 * demonstrations at the start are what gets cut.
 */
export function fitPrompt(tokens: number[], limit: number, bosId: number | null): { tokens: number[]; truncated: boolean } {
  if (tokens.length <= limit) return { tokens, truncated: false };
  const keepBos = bosId !== null && tokens[0] === bosId;
  const tail = tokens.slice(tokens.length - (limit - (keepBos ? 1 : 0)));
  return { tokens: keepBos ? [bosId, ...tail] : tail, truncated: true };
}

function argmax(values: Float32Array, offset: number, length: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    if (values[offset + i] > bestValue) {
      bestValue = values[offset + i];
      best = i;
    }
  }
  return best;
}

/** Returns log softmax(row)[target], computed stably in f64. */
function logProbability(logits: Float32Array, offset: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
  return logits[offset + target] - max - Math.log(sum);
}

export class ModelTaskAdapter<Cache> implements TaskModel {
  readonly stats: ModelTaskAdapterStats = { truncatedPrompts: 0 };

  constructor(
    private readonly model: GenerativeModel<Cache>,
    private readonly tokenizer: TextTokenizer,
  ) {}

  private async forward(tokens: number[], start: number, caches?: Cache[]): Promise<Float32Array> {
    const positions = Array.from({ length: tokens.length }, (_, t) => start + t);
    let hidden = this.model.embed(tokens, positions);
    for (let i = 0; i < this.model.config.nLayers; i++) {
      hidden = await this.model.runBlock(i, hidden, tokens.length, positions, caches === undefined ? {} : { cache: caches[i] });
    }
    return this.model.logits(hidden, tokens.length);
  }

  async generate(prompt: string, options: { maxNewTokens: number; stopSequence?: string }): Promise<string> {
    const { maxSeqLen, vocabSize } = this.model.config;
    // NOTE: small models get at most a quarter of their context for the answer (the spec's
    // 256 new tokens would leave a 512-token model little room for the prompt).
    const budget = Math.min(options.maxNewTokens, Math.max(1, Math.floor(maxSeqLen / 4)));
    const fitted = fitPrompt(this.tokenizer.encode(prompt, { bos: true }), maxSeqLen - budget, this.tokenizer.bosId);
    if (fitted.truncated) {
      this.stats.truncatedPrompts++;
      log.debug(() => `prompt cut to the last ${fitted.tokens.length} tokens to fit ${maxSeqLen} positions`);
    }

    const caches = this.model.createCache(fitted.tokens.length + budget);
    let logits = await this.forward(fitted.tokens, 0, caches);
    let next = argmax(logits, (fitted.tokens.length - 1) * vocabSize, vocabSize);
    const generated: number[] = [];
    let position = fitted.tokens.length;
    for (let step = 0; step < budget; step++) {
      if (next === this.tokenizer.eosId) break;
      generated.push(next);
      if (options.stopSequence !== undefined && this.tokenizer.decode(generated).includes(options.stopSequence)) break;
      if (step === budget - 1) break;
      logits = await this.forward([next], position, caches);
      position++;
      next = argmax(logits, 0, vocabSize);
    }
    return this.tokenizer.decode(generated);
  }

  async logLikelihood(context: string, continuation: string): Promise<number> {
    const { maxSeqLen, vocabSize } = this.model.config;
    const contextTokens = this.tokenizer.encode(context, { bos: true });
    const full = this.tokenizer.encode(context + continuation, { bos: true });
    // Score the tokens after the shared prefix, so a merge across the boundary is still scored.
    let shared = 0;
    while (shared < contextTokens.length && shared < full.length && contextTokens[shared] === full[shared]) shared++;
    shared = Math.max(1, Math.min(shared, full.length - 1));
    const continuationLength = full.length - shared;

    const fitted = fitPrompt(full, maxSeqLen, this.tokenizer.bosId);
    if (fitted.truncated) this.stats.truncatedPrompts++;
    const tokens = fitted.tokens;
    const logits = await this.forward(tokens, 0);
    let total = 0;
    for (let t = tokens.length - continuationLength; t < tokens.length; t++) {
      total += logProbability(logits, (t - 1) * vocabSize, vocabSize, tokens[t]);
    }
    return total;
  }
}
