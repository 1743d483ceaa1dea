/**
 * Constraints for coarse-to-fine decoding of ChainCoder targets
 * `S1 [SEP] S2 [SEP] S3 [SEP] S4 [EOS]` (BOS is the prompt):
 * - S1 and S3 contain syntax (layout) tokens only, S2 and S4 content tokens only;
 * - exactly three separators are emitted, then EOS ends the sequence;
 * - S4 has exactly as many tokens as S3, so EOS is the only choice once S4 is
 *   complete and is never allowed before;
 * - S4 position j allows only the content tokens seen after the syntax token
 *   S3[j] in the training targets (all content tokens if S3[j] was never seen);
 * - with `finalContent` set, S4 ends with that token and has it nowhere else,
 *   and with `continuation` set, S3 does not start with it;
 * - with `syntaxFragments` and `contentTexts` set, S3 follows the layout-frame
 *   grammar: every prefix can still grow into the dump of a Python 3.11
 *   tree, S3 ends only with a complete dump, and S4 token j fits the hole
 *   that S3 token j leaves (see frame-constraint.ts). With `syntaxFragments`
 *   only, the S3 frame just keeps its brackets balanced: a syntax token may
 *   close only the bracket on top of the open stack, and S3 ends only with
 *   an empty stack;
 * - near the length budget the current segment is closed early, so that a
 *   well-formed sequence always fits.
 *
 * The reference decodes without any of these constraints; they are a
 * deviation, selected by choosing the constrained decoder.
 */
import { InputError, UsageError, getLogger } from '@sculpt/core';
import type { TokenizerMode } from '../tokenizer/modes.js';
import { FrameBrackets, applyEffect } from './frame-brackets.js';
import { FrameConstraint } from './frame-constraint.js';
import { grammarGuidedSteps } from './grammar-steps.js';

const log = getLogger('chaincoder:coarse-to-fine');

/** Ids of the syntax, content and special tokens in the output vocabulary. */
export interface OutputVocabularyLayout {
  size: number;
  separator: number;
  eos: number;
  /** Sorted ids of syntax (layout-frame) tokens, special tokens excluded. */
  syntaxIds: readonly number[];
  /** Sorted ids of content (accessory) tokens, special tokens excluded. */
  contentIds: readonly number[];
  /**
   * Content token that must end S4 and appear nowhere else (the tokenizer's
   * final-chasing token). When set, it is forced at the last S4 position.
   */
  finalContent?: number;
  /** Syntax token that continues a split literal (on-hold); never allowed as S3's first token. */
  continuation?: number;
  /** Text of each syntax token (an AST-dump fragment); when given, S3 frames keep balanced brackets. */
  syntaxFragments?: ReadonlyMap<number, string>;
  /** Text of each content token; together with `syntaxFragments` it turns on the frame grammar. */
  contentTexts?: ReadonlyMap<number, string>;
  /** Tokenizer mode of the vocabulary, which selects the grammar's node shapes (default lossless). */
  mode?: TokenizerMode;
}

/** For each syntax token id, the content ids that followed it at the same S3/S4 position in training. */
export type CooccurrenceTable = ReadonlyMap<number, ReadonlySet<number>>;

export interface TargetSegments {
  s1: number[];
  s2: number[];
  s3: number[];
  s4: number[];
}

/**
 * Splits generated tokens (after BOS, EOS excluded or included) into the four
 * segments. Returns null unless there are exactly three separators and
 * len(S3) = len(S4), the conditions for decoding a program.
 */
export function splitSegments(tokens: readonly number[], layout: Pick<OutputVocabularyLayout, 'separator' | 'eos'>): TargetSegments | null {
  const end = tokens.indexOf(layout.eos);
  const body = end < 0 ? tokens : tokens.slice(0, end);
  const segments: number[][] = [[]];
  for (const token of body) {
    if (token === layout.separator) segments.push([]);
    else segments[segments.length - 1].push(token);
  }
  if (segments.length !== 4) return null;
  const [s1, s2, s3, s4] = segments;
  if (s3.length !== s4.length || s3.length === 0) return null;
  return { s1, s2, s3, s4 };
}

/**
 * Counts which content ids follow which syntax ids in training targets
 * (S3[j] with S4[j]). A leading BOS only lands in S1, which is not used.
 */
export function buildCooccurrence(targets: Iterable<readonly number[]>, layout: Pick<OutputVocabularyLayout, 'separator' | 'eos'>): CooccurrenceTable {
  const table = new Map<number, Set<number>>();
  let index = 0;
  for (const target of targets) {
    const segments = splitSegments(target, layout);
    if (segments === null) {
      throw new InputError(`Training target ${index} is malformed: it needs 3 separators and equal S3 and S4 lengths.`);
    }
    segments.s3.forEach((syntax, position) => {
      let allowed = table.get(syntax);
      if (allowed === undefined) {
        allowed = new Set();
        table.set(syntax, allowed);
      }
      allowed.add(segments.s4[position]);
    });
    index++;
  }
  return table;
}

function checkLayout(layout: OutputVocabularyLayout): void {
  const inRange = (id: number): boolean => Number.isInteger(id) && id >= 0 && id < layout.size;
  for (const [name, id] of [
    ['separator', layout.separator],
    ['eos', layout.eos],
  ] as const) {
    if (!inRange(id)) throw new UsageError(`The ${name} id ${id} is outside the vocabulary of ${layout.size} tokens.`);
  }
  if (layout.syntaxIds.length === 0 || layout.contentIds.length === 0) {
    throw new UsageError('Coarse-to-fine decoding needs at least one syntax token and one content token.');
  }
}

/** Tracks how far a generated prefix has come, so each step costs O(1) after the first. */
interface Progress {
  segment: number;
  /** Tokens in the current segment. */
  length: number;
  /** S3 tokens, kept to look up the co-occurrence of each S4 position. */
  s3: number[];
}

function progressOf(generated: readonly number[], separator: number): Progress {
  const progress: Progress = { segment: 0, length: 0, s3: [] };
  for (const token of generated) {
    if (token === separator) {
      progress.segment++;
      progress.length = 0;
      continue;
    }
    if (progress.segment === 2) progress.s3.push(token);
    progress.length++;
  }
  return progress;
}

/**
 * Returns an `allowedTokens` callback for core's constrained decoder.
 * `maxNewTokens` is the generation budget; the smallest well-formed
 * continuation is kept within it.
 */
export function coarseToFineConstraint(
  layout: OutputVocabularyLayout,
  cooccurrence: CooccurrenceTable,
  maxNewTokens: number,
): (position: { generated: readonly number[] }) => ReadonlySet<number> {
  checkLayout(layout);
  if (layout.syntaxFragments !== undefined && layout.contentTexts !== undefined) {
    const frames = new FrameConstraint(layout.syntaxFragments, layout.contentTexts, layout.continuation, layout.mode ?? 'lossless');
    if (Number.isFinite(frames.minFrameLength)) return grammarGuidedSteps(layout, cooccurrence, maxNewTokens, frames);
    log.warn('No complete layout frame can be built from the syntax tokens of this vocabulary, so S3 is only bracket-checked.');
  }
  // Bracket tracking is used only when some balanced frame can be built from the syntax tokens.
  const tracked = layout.syntaxFragments === undefined ? null : new FrameBrackets(layout.syntaxFragments, layout.continuation);
  const brackets = tracked !== null && Number.isFinite(tracked.minFrameLength) ? tracked : null;
  const frameLength = brackets?.minFrameLength ?? 1;
  // The shortest complete sequence: three separators, the shortest S3 frame, as many S4 tokens and EOS.
  const shortest = 4 + 2 * frameLength;
  if (maxNewTokens < shortest) throw new UsageError(`Coarse-to-fine decoding needs maxNewTokens of at least ${shortest} for this vocabulary, got ${maxNewTokens}.`);
  const syntax = new Set(layout.syntaxIds);
  const content = new Set(layout.contentIds);
  const separatorOnly = new Set([layout.separator]);
  const eosOnly = new Set([layout.eos]);
  const withSeparator = (tokens: ReadonlySet<number>): Set<number> => new Set([...tokens, layout.separator]);
  const without = (tokens: ReadonlySet<number>, id: number | undefined): ReadonlySet<number> => {
    if (id === undefined || !tokens.has(id)) return tokens;
    const copy = new Set(tokens);
    copy.delete(id);
    return copy;
  };
  const syntaxOrSeparator = withSeparator(syntax);
  const contentOrSeparator = withSeparator(without(content, layout.finalContent));
  const firstSyntax = without(syntax, layout.continuation);
  const innerContent = without(content, layout.finalContent);
  const finalOnly = layout.finalContent === undefined ? undefined : new Set([layout.finalContent]);

  /**
   * S3 with bracket tracking: a token is allowed when it matches the open
   * stack and, after it, the greedy closing path (c tokens), SEP, the S4
   * tokens and EOS still fit: left ≥ 2c + len(S3) + 4. SEP needs an empty stack.
   */
  const balancedFrameStep = (tracker: FrameBrackets, progress: Progress, left: number): ReadonlySet<number> => {
    const stack = tracker.stackAfter(progress.s3);
    if (stack === null) return separatorOnly;
    const allowed = new Set<number>();
    for (const id of progress.length === 0 ? firstSyntax : syntax) {
      const effect = tracker.effects.get(id);
      if (effect === undefined) continue;
      const next = applyEffect(stack, effect);
      if (next === null) continue;
      if (left >= 2 * tracker.closingCost(next) + progress.length + 4) allowed.add(id);
    }
    if (stack === '' && progress.length > 0) allowed.add(layout.separator);
    // Unreachable while the budget invariant holds; closing keeps the segments well formed.
    return allowed.size > 0 ? allowed : separatorOnly;
  };

  return ({ generated }) => {
    const progress = progressOf(generated, layout.separator);
    const used = generated.length;
    const left = maxNewTokens - used;
    switch (progress.segment) {
      case 0:
      case 1: {
        // Closing needs this separator, the later ones, the shortest S3 frame, as many S4 tokens and EOS.
        const neededToClose = (progress.segment === 0 ? 4 : 3) + 2 * frameLength;
        if (left <= neededToClose) return separatorOnly;
        return progress.segment === 0 ? syntaxOrSeparator : contentOrSeparator;
      }
      case 2: {
        // Without the frame grammar (no token texts given), S3 may still be an invalid dump such as a second `Module(` inside the first.
        if (brackets !== null) return balancedFrameStep(brackets, progress, left);
        // Closing now needs: SEP, then len(S3) S4 tokens, then EOS.
        // S3 needs one token; closing segment 1 left room for it, SEP, one S4 token and EOS.
        if (progress.length === 0) return firstSyntax;
        // One more S3 token costs itself plus one more S4 token; then SEP, the S4 tokens and EOS must still fit.
        if (left >= progress.length + 4) return syntaxOrSeparator;
        return separatorOnly;
      }
      case 3: {
        if (progress.length >= progress.s3.length) return eosOnly;
        if (finalOnly !== undefined && progress.length === progress.s3.length - 1) return finalOnly;
        const seen = cooccurrence.get(progress.s3[progress.length]);
        const allowed = seen === undefined ? undefined : without(seen, layout.finalContent);
        return allowed !== undefined && allowed.size > 0 ? allowed : innerContent;
      }
      default:
        // Unreachable through this callback, which never allows a fourth separator.
        return eosOnly;
    }
  };
}
