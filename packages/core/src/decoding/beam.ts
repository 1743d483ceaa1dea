/**
 * Beam search. Each prompt keeps `width` live beams. Every step extends all of
 * them by every token and keeps the `width` best by summed log-probability.
 * Beams that emit a stop token move to a list of finished hypotheses, ranked
 * by `logProb / length ** lengthPenalty`. This is the normalization of Hugging
 * Face transformers' BeamSearchScorer, except that here the length counts the
 * generated tokens including the stop token.
 */
import { SculptError, throwIfAborted } from '../errors.js';
import { applyMask, logSoftmax, toMask, topTokens } from './logits.js';
import type { DecodedSequence, DecodeRequest, DecodeResult, DecodingModel, Logits } from './model.js';

export interface BeamSettings {
  width: number;
  lengthPenalty: number;
  /** Sequences returned per prompt, at most `width`. */
  numReturn: number;
  /**
   * true: a prompt is done once it has `width` finished hypotheses. false:
   * it is done when no live beam can still beat the worst finished one, as
   * judged from the live beam's current score.
   */
  earlyStopping: boolean;
  maxNewTokens: number;
  stopTokens: readonly number[];
}

interface Beam {
  tokens: number[];
  logProb: number;
  /** Batch row that contains this beam's model state. */
  row: number;
}

interface Group {
  promptIndex: number;
  live: Beam[];
  finished: DecodedSequence[];
  done: boolean;
}

interface Candidate {
  beam: Beam;
  beamRank: number;
  token: number;
  logProb: number;
}

function score(logProb: number, length: number, lengthPenalty: number): number {
  return logProb / Math.pow(Math.max(length, 1), lengthPenalty);
}

function addFinished(group: Group, sequence: DecodedSequence, settings: BeamSettings): void {
  group.finished.push(sequence);
  group.finished.sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
  if (group.finished.length > settings.width) group.finished.length = settings.width;
}

function isDone(group: Group, settings: BeamSettings, generatedLength: number): boolean {
  if (group.finished.length < settings.width) return false;
  if (settings.earlyStopping) return true;
  const worst = group.finished[group.finished.length - 1].score ?? -Infinity;
  const bestLive = Math.max(...group.live.map((beam) => beam.logProb));
  return worst >= score(bestLive, generatedLength, settings.lengthPenalty);
}

/** Collects the best `limit` extensions of a group's beams, ordered by log-probability, then beam rank, then token id. */
function candidatesFor(
  group: Group,
  logits: Logits[],
  prompt: readonly number[],
  request: DecodeRequest,
  vocabSize: number,
  limit: number,
): Candidate[] {
  const candidates: Candidate[] = [];
  group.live.forEach((beam, beamRank) => {
    const row = logits[beam.row];
    if (row.length !== vocabSize) {
      throw new SculptError(`The model returned ${row.length} logits, expected its vocabulary size ${vocabSize}`);
    }
    const logProbs = logSoftmax(row);
    const mask = request.allowedTokens
      ? toMask(request.allowedTokens({ promptIndex: group.promptIndex, prompt, generated: beam.tokens }), vocabSize)
      : undefined;
    const allowed = applyMask(logProbs, mask);
    // Only a beam's own top `limit` tokens can be among the group's top `limit`.
    for (const token of topTokens(allowed, limit)) {
      candidates.push({ beam, beamRank, token, logProb: beam.logProb + logProbs[token] });
    }
  });
  candidates.sort((a, b) => b.logProb - a.logProb || a.beamRank - b.beamRank || a.token - b.token);
  return candidates.slice(0, limit);
}

export async function beamSearch<State>(
  model: DecodingModel<State>,
  prompts: readonly (readonly number[])[],
  settings: BeamSettings,
  request: DecodeRequest,
): Promise<DecodeResult[]> {
  const groups: Group[] = prompts.map((_, promptIndex) => ({
    promptIndex,
    live: [{ tokens: [], logProb: 0, row: promptIndex }],
    finished: [],
    done: settings.maxNewTokens === 0,
  }));
  if (prompts.length > 0 && settings.maxNewTokens > 0) await search(model, prompts, groups, settings, request);

  return groups.map((group) => {
    // maxNewTokens = 0 leaves the empty sequence as the only hypothesis.
    const ranked = group.finished.length > 0 ? group.finished : [{ tokens: [], logProb: 0, finishReason: 'length' as const, score: 0 }];
    return { promptIndex: group.promptIndex, sequences: ranked.slice(0, settings.numReturn) };
  });
}

async function search<State>(
  model: DecodingModel<State>,
  prompts: readonly (readonly number[])[],
  groups: Group[],
  settings: BeamSettings,
  request: DecodeRequest,
): Promise<void> {
  const stop = new Set(settings.stopTokens);
  throwIfAborted(request.signal);
  const started = await model.start(prompts);
  let state = started.state;
  let logits = started.logits;

  try {
    for (let length = 1; ; length++) {
      const parentRows: number[] = [];
      const nextTokens: number[] = [];

      for (const group of groups) {
        if (group.done) continue;
        const prompt = prompts[group.promptIndex];
        const candidates = candidatesFor(group, logits, prompt, request, model.vocabSize, settings.width * 2);
        if (candidates.length === 0) {
          throw new SculptError(
            `No token is allowed for prompt ${group.promptIndex} after ${length - 1} generated tokens: the allowedTokens constraint returned an empty set`,
          );
        }

        const live: Beam[] = [];
        for (const [rank, candidate] of candidates.entries()) {
          if (stop.has(candidate.token)) {
            // Only stop tokens among the top `width` count, so an unlikely end does not crowd out live beams.
            if (rank < settings.width) {
              addFinished(group, {
                tokens: [...candidate.beam.tokens],
                logProb: candidate.logProb,
                finishReason: 'stop',
                stopToken: candidate.token,
                score: score(candidate.logProb, length, settings.lengthPenalty),
              }, settings);
            }
            continue;
          }
          live.push({ tokens: [...candidate.beam.tokens, candidate.token], logProb: candidate.logProb, row: candidate.beam.row });
          if (live.length === settings.width) break;
        }
        group.live = live;

        if (length >= settings.maxNewTokens || live.length === 0) {
          for (const beam of live) {
            addFinished(group, {
              tokens: beam.tokens,
              logProb: beam.logProb,
              finishReason: 'length',
              score: score(beam.logProb, length, settings.lengthPenalty),
            }, settings);
          }
          group.done = true;
          continue;
        }
        group.done = isDone(group, settings, length);
        if (group.done) continue;

        for (const beam of live) {
          parentRows.push(beam.row);
          beam.row = parentRows.length - 1;
          nextTokens.push(beam.tokens[beam.tokens.length - 1]);
        }
      }

      if (nextTokens.length === 0) break;
      throwIfAborted(request.signal);
      state = await model.reorder(state, parentRows);
      logits = await model.step(state, nextTokens);
    }
  } finally {
    model.dispose(state);
  }
}
