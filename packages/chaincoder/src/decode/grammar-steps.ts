/**
 * The `allowedTokens` callback of grammar-guided coarse-to-fine decoding.
 * The state of each generated prefix (segment, frame grammar state, holes,
 * piece state) is derived from the state of the prefix one token shorter.
 * So a step costs one transition plus cached set lookups, for greedy,
 * sampled and beam decoding alike.
 */
import { UsageError } from '@sculpt/core';
import type { FrameGrammarState } from '../tokenizer/frame-grammar.js';
import type { HoleKind } from '../tokenizer/frame-grammar-schema.js';
import type { CooccurrenceTable, OutputVocabularyLayout } from './coarse-to-fine.js';
import type { FrameConstraint, HoleRecord } from './frame-constraint.js';

/** One S3 token as read: its id and the hole it leaves ('continue' for an on-hold piece, null for the last token). */
interface FrameToken {
  readonly id: number;
  readonly hole: HoleKind | 'continue' | null;
  readonly previous: FrameToken | null;
}

interface PrefixState {
  readonly segment: number;
  /** Tokens in the current segment. */
  readonly length: number;
  readonly grammar: FrameGrammarState;
  readonly frame: FrameToken | null;
  /** Set once S3 is closed: the S3 ids and the hole each position leaves. */
  readonly s3: readonly number[] | null;
  readonly holes: readonly HoleRecord[] | null;
  /** Piece state of the value S4 is spelling (see ContentClasses.nextPieceState). */
  readonly pieceState: number;
}

export function grammarGuidedSteps(
  layout: OutputVocabularyLayout,
  cooccurrence: CooccurrenceTable,
  maxNewTokens: number,
  frames: FrameConstraint,
): (position: { generated: readonly number[] }) => ReadonlySet<number> {
  const frameLength = frames.minFrameLength;
  // The shortest complete sequence: three separators, the shortest S3 frame, as many S4 tokens and EOS.
  const shortest = 4 + 2 * frameLength;
  if (maxNewTokens < shortest) throw new UsageError(`Coarse-to-fine decoding needs maxNewTokens of at least ${shortest} for this vocabulary, got ${maxNewTokens}.`);
  const separatorOnly: ReadonlySet<number> = new Set([layout.separator]);
  const eosOnly: ReadonlySet<number> = new Set([layout.eos]);
  const finalOnly: ReadonlySet<number> = new Set(layout.finalContent === undefined ? [] : [layout.finalContent]);
  const syntax = new Set(layout.syntaxIds);
  const content = new Set(layout.contentIds);
  if (layout.finalContent !== undefined) content.delete(layout.finalContent);
  const syntaxOrSeparator = new Set([...syntax, layout.separator]);
  const contentOrSeparator = new Set([...content, layout.separator]);

  const initial: PrefixState = { segment: 0, length: 0, grammar: frames.grammar.initial, frame: null, s3: null, holes: null, pieceState: 0 };
  const states = new Map<string, PrefixState>([['', initial]]);

  const stateOf = (generated: readonly number[]): PrefixState => {
    const key = generated.join(',');
    const known = states.get(key);
    if (known !== undefined) return known;
    const state = generated.length === 0 ? initial : advance(stateOf(generated.slice(0, -1)), generated[generated.length - 1]);
    states.set(key, state);
    return state;
  };

  const advance = (state: PrefixState, token: number): PrefixState => {
    if (token === layout.separator) {
      const closed = state.segment === 2 ? closeFrame(state.frame) : { s3: state.s3, holes: state.holes };
      return { ...state, ...closed, segment: state.segment + 1, length: 0, pieceState: 0 };
    }
    if (state.segment === 2) return readFrameToken(state, token);
    if (state.segment === 3 && state.holes !== null && state.length < state.holes.length) {
      const hole = state.holes[state.length];
      return { ...state, length: state.length + 1, pieceState: frames.contents.nextPieceState(hole.piece, state.pieceState, token) };
    }
    return { ...state, length: state.length + 1 };
  };

  const readFrameToken = (state: PrefixState, token: number): PrefixState => {
    const next = { ...state, length: state.length + 1 };
    if (token === layout.continuation) return { ...next, frame: { id: token, hole: 'continue', previous: state.frame } };
    const successor = frames.successors(state.grammar).find((candidate) => candidate.id === token);
    // A token the constraint never allows (a forced prefix) leaves the grammar where it was.
    if (successor === undefined) return { ...next, frame: { id: token, hole: null, previous: state.frame } };
    return { ...next, grammar: successor.state, frame: { id: token, hole: successor.hole, previous: state.frame } };
  };

  /** S3 tokens in order, and for each but the last the hole it leaves with its piece index and count. */
  const closeFrame = (last: FrameToken | null): { s3: number[]; holes: HoleRecord[] } => {
    const tokens: FrameToken[] = [];
    for (let token = last; token !== null; token = token.previous) tokens.push(token);
    tokens.reverse();
    const holes: HoleRecord[] = [];
    let valueStart = 0;
    for (let index = 0; index < tokens.length - 1; index++) {
      const hole = tokens[index].hole;
      if (hole === 'continue' && holes.length > 0) {
        holes.push({ ...holes[index - 1], piece: holes[index - 1].piece + 1 });
        for (let piece = valueStart; piece <= index; piece++) holes[piece].pieces = index - valueStart + 1;
        continue;
      }
      valueStart = index;
      holes.push({ kind: hole === null || hole === 'continue' ? 'constant' : hole, piece: 0, pieces: 1 });
    }
    return { s3: tokens.map((token) => token.id), holes };
  };

  /**
   * Checks that an S3 token fits the budget. After it come the frame's remaining
   * tokens, SEP, as many S4 tokens as S3 has and EOS. The grammar's lower
   * bound rejects cheaply, and the length of a found completion (a path that
   * exists) decides, so an admitted token can always be completed in time.
   */
  const fitsBudget = (s3Length: number, lowerBound: number, left: number, completion: (limit: number) => number): boolean => {
    const need = (further: number): number => 1 + further + 1 + (s3Length + further) + 1;
    // The maximum number of further S3 tokens with need(further) <= left.
    const limit = Math.floor((left - s3Length - 3) / 2);
    return lowerBound <= limit && completion(limit) <= limit && need(lowerBound) <= left;
  };

  const frameStep = (state: PrefixState, left: number): ReadonlySet<number> => {
    if (frames.grammar.isComplete(state.grammar)) return separatorOnly;
    const allowed = new Set<number>();
    const s3Length = state.length + 1;
    for (const successor of frames.successors(state.grammar)) {
      const completion = (limit: number): number => (successor.hole === null ? 0 : frames.completionLength(successor.state, limit));
      if (fitsBudget(s3Length, successor.further, left, completion)) allowed.add(successor.id);
    }
    if (state.length > 0 && frames.allowsContinuation(state.grammar)) {
      const further = frames.grammar.minHoles(state.grammar) + 1;
      if (fitsBudget(s3Length, further, left, (limit) => frames.completionLength(state.grammar, limit))) allowed.add(layout.continuation!);
    }
    // Unreachable while the budget invariant holds, because the shortest completion's next token always fits.
    return allowed.size > 0 ? allowed : separatorOnly;
  };

  const contentStep = (state: PrefixState): ReadonlySet<number> => {
    const s3 = state.s3 ?? [];
    const holes = state.holes ?? [];
    if (state.length >= s3.length) return eosOnly;
    if (state.length === s3.length - 1 && layout.finalContent !== undefined) return finalOnly;
    const hole = holes[state.length];
    const seen = cooccurrence.get(s3[state.length]);
    if (hole === undefined) return seen ?? content;
    const allowed = frames.contentFor(hole, state.pieceState, seen);
    return allowed.size > 0 ? allowed : content;
  };

  return ({ generated }) => {
    const state = stateOf(generated);
    const left = maxNewTokens - generated.length;
    switch (state.segment) {
      case 0:
      case 1: {
        // Closing needs this separator, the later ones, the shortest S3 frame, as many S4 tokens and EOS.
        const neededToClose = (state.segment === 0 ? 4 : 3) + 2 * frameLength;
        if (left <= neededToClose) return separatorOnly;
        return state.segment === 0 ? syntaxOrSeparator : contentOrSeparator;
      }
      case 2:
        return frameStep(state, left);
      case 3:
        return contentStep(state);
      default:
        return eosOnly;
    }
  };
}
