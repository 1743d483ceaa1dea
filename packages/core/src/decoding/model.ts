/**
 * The contract between decoding strategies and the models they drive. Any
 * autoregressive model (a llama2.c transformer on WebGPU, ChainCoder's
 * decoder, a bigram table in a test) implements DecodingModel, and every
 * decoder plugin works with every model.
 */

/** Unnormalized next-token scores for one sequence, one entry per vocabulary id. */
export type Logits = Float32Array | Float64Array;

/**
 * A batch of sequences advanced one token at a time. The state is opaque to
 * the decoder (typically a KV cache); row `i` of every logits array belongs to
 * row `i` of the state.
 */
export interface DecodingModel<State = unknown> {
  readonly vocabSize: number;
  /** Runs the prompts (one row each) and returns the logits for each row's first new token. */
  start(prompts: readonly (readonly number[])[]): Promise<{ state: State; logits: Logits[] }> | { state: State; logits: Logits[] };
  /** Appends one token to every row and returns the logits for the next one. May update `state` in place. */
  step(state: State, tokens: readonly number[]): Promise<Logits[]> | Logits[];
  /**
   * Rebuilds the batch from rows of the current one: new row `j` continues old
   * row `indices[j]`. Rows may repeat (beam search forks a beam) or be dropped
   * (finished sequences). The decoder uses only the returned state afterwards.
   */
  reorder(state: State, indices: readonly number[]): Promise<State> | State;
  /** Releases the state (GPU buffers, caches). Called once, after the last step. */
  dispose(state: State): void;
}

/**
 * Tokens allowed as the next token: a set of ids, or a mask with one entry per
 * vocabulary id (non-zero or true means allowed).
 */
export type AllowedTokens = ReadonlySet<number> | Uint8Array | readonly boolean[];

/** Position of a constrained sequence at the moment its next token is chosen. */
export interface ConstraintPosition {
  /** Index of the prompt this sequence continues. */
  promptIndex: number;
  /** The prompt's tokens. */
  prompt: readonly number[];
  /** Tokens generated so far (stop tokens are never part of this). */
  generated: readonly number[];
}

export interface DecodeRequest {
  /** Overrides the decoder's maxNewTokens option for this call. */
  maxNewTokens?: number;
  /** Overrides the decoder's stopTokens option for this call. */
  stopTokens?: readonly number[];
  /**
   * Restricts each step to the returned tokens (grammar- or syntax-guided
   * decoding). Required by the `constrained` decoder, honoured by all.
   */
  allowedTokens?: (position: ConstraintPosition) => AllowedTokens;
  /** Overrides the sampling seed for this call. */
  seed?: number;
  signal?: AbortSignal;
  /** Called for every accepted token of a sampled or greedy sequence (not for beams, which may be discarded). */
  onToken?: (event: { promptIndex: number; sample: number; token: number }) => void;
}

export type FinishReason = 'stop' | 'length';

export interface DecodedSequence {
  /** Generated tokens, without the prompt and without the stop token. */
  tokens: number[];
  /** Sum of the model's log-probabilities (natural log, temperature 1) of the generated tokens, stop token included. */
  logProb: number;
  finishReason: FinishReason;
  /** The stop token that ended the sequence, when finishReason is 'stop'. */
  stopToken?: number;
  /** Ranking score (beam search: logProb divided by length to the power of the length penalty). */
  score?: number;
}

export interface DecodeResult {
  promptIndex: number;
  /** One sequence (greedy), `numSamples` (sample), or the best `numReturn` beams, best first. */
  sequences: DecodedSequence[];
}

/** The instance a decoder plugin creates. */
export interface Decoder {
  readonly name: string;
  decode<State>(
    model: DecodingModel<State>,
    prompts: readonly (readonly number[])[],
    request?: DecodeRequest,
  ): Promise<DecodeResult[]>;
}
