/**
 * The step loop shared by greedy, sampled and constrained decoding: every row
 * picks one token per step, finished rows leave the batch through `reorder`,
 * and the loop ends when no row is left or the token budget is spent.
 */
import { SculptError, throwIfAborted } from '../errors.js';
import { getLogger } from '../logger.js';
import { applyMask, logSoftmax, toMask } from './logits.js';
import type { DecodedSequence, DecodeRequest, DecodeResult, DecodingModel, Logits } from './model.js';

const log = getLogger('core:decoding');

/** Picks the next token of one row from its (masked) scores; -1 when no token is possible. */
export type TokenChooser = (scores: Float64Array, row: { promptIndex: number; sample: number }) => number;

export interface LoopSettings {
  maxNewTokens: number;
  stopTokens: readonly number[];
  /** Sequences generated per prompt (several only for sampling). */
  samplesPerPrompt: number;
}

interface Sequence {
  promptIndex: number;
  sample: number;
  tokens: number[];
  logProb: number;
  finished?: Pick<DecodedSequence, 'finishReason' | 'stopToken'>;
}

export async function runTokenLoop<State>(
  model: DecodingModel<State>,
  prompts: readonly (readonly number[])[],
  settings: LoopSettings,
  request: DecodeRequest,
  choose: TokenChooser,
): Promise<DecodeResult[]> {
  const sequences: Sequence[] = [];
  for (let p = 0; p < prompts.length; p++) {
    for (let s = 0; s < settings.samplesPerPrompt; s++) sequences.push({ promptIndex: p, sample: s, tokens: [], logProb: 0 });
  }
  if (settings.maxNewTokens > 0 && sequences.length > 0) await generate(model, prompts, sequences, settings, request, choose);

  return prompts.map((_, promptIndex) => ({
    promptIndex,
    sequences: sequences
      .filter((sequence) => sequence.promptIndex === promptIndex)
      .map((sequence) => ({
        tokens: sequence.tokens,
        logProb: sequence.logProb,
        finishReason: sequence.finished?.finishReason ?? 'length',
        ...(sequence.finished?.stopToken !== undefined ? { stopToken: sequence.finished.stopToken } : {}),
      })),
  }));
}

async function generate<State>(
  model: DecodingModel<State>,
  prompts: readonly (readonly number[])[],
  sequences: Sequence[],
  settings: LoopSettings,
  request: DecodeRequest,
  choose: TokenChooser,
): Promise<void> {
  const stop = new Set(settings.stopTokens);
  throwIfAborted(request.signal);
  const started = await model.start(sequences.map((sequence) => prompts[sequence.promptIndex]));
  let state = started.state;
  let logits: Logits[] = started.logits;
  // rows[r] is the sequence that batch row r belongs to.
  let rows = sequences.map((_, i) => i);

  try {
    for (let step = 0; ; step++) {
      const nextTokens: number[] = [];
      const keep: number[] = [];
      for (let r = 0; r < rows.length; r++) {
        const sequence = sequences[rows[r]];
        const token = chooseForRow(model, prompts, sequence, logits[r], request, choose);
        sequence.logProb += logSoftmax(logits[r])[token];

        if (stop.has(token)) {
          sequence.finished = { finishReason: 'stop', stopToken: token };
          continue;
        }
        sequence.tokens.push(token);
        request.onToken?.({ promptIndex: sequence.promptIndex, sample: sequence.sample, token });
        if (step + 1 >= settings.maxNewTokens) {
          sequence.finished = { finishReason: 'length' };
          continue;
        }
        keep.push(r);
        nextTokens.push(token);
      }
      if (keep.length === 0) break;
      throwIfAborted(request.signal);

      if (keep.length < rows.length) {
        state = await model.reorder(state, keep);
        rows = keep.map((r) => rows[r]);
      }
      logits = await model.step(state, nextTokens);
    }
  } finally {
    model.dispose(state);
  }
  log.debug(() => `Decoded ${sequences.length} sequences`);
}

function chooseForRow<State>(
  model: DecodingModel<State>,
  prompts: readonly (readonly number[])[],
  sequence: Sequence,
  logits: Logits,
  request: DecodeRequest,
  choose: TokenChooser,
): number {
  if (logits.length !== model.vocabSize) {
    throw new SculptError(`The model returned ${logits.length} logits, expected its vocabulary size ${model.vocabSize}`);
  }
  const position = { promptIndex: sequence.promptIndex, prompt: prompts[sequence.promptIndex], generated: sequence.tokens };
  const mask = request.allowedTokens ? toMask(request.allowedTokens(position), model.vocabSize) : undefined;
  const token = choose(applyMask(logits, mask), sequence);
  if (token < 0) {
    throw new SculptError(
      `No token is allowed for prompt ${sequence.promptIndex} after ${sequence.tokens.length} generated tokens: the allowedTokens constraint returned an empty set (include a stop token to end the sequence)`,
    );
  }
  return token;
}
