/**
 * The decoder target and its inverse. The target is one flat sequence
 * `[BOS] S1 [SEP] S2 [SEP] S3 [SEP] S4 [EOS]`; the older interleaved layout
 * `[BOS] s0 c0 s1 c1 … sN FINAL [EOS]` is kept for ablations. Both layouts
 * are defined only here and used both to build targets and to read outputs.
 */
import { SPECIAL_TOKENS } from './special-tokens.js';

export type TargetLayout = 'segments' | 'interleaved';

export interface Segments {
  s1: string[];
  s2: string[];
  s3: string[];
  s4: string[];
}

/** Reason a generated sequence cannot be decoded. */
export type DecodeFailureReason =
  | 'missing-bos'
  | 'missing-eos'
  | 'separator-count'
  | 'length-mismatch'
  | 'unbalanced-frame'
  | 'unknown-token'
  | 'misplaced-special'
  | 'invalid-piece-run'
  | 'invalid-tree'
  | 'empty';

export class TargetDecodeError extends Error {
  constructor(
    readonly reason: DecodeFailureReason,
    readonly detail: string,
  ) {
    super(`cannot decode the token sequence (${reason}): ${detail}`);
  }
}

export function serializeTarget(segments: Segments, layout: TargetLayout = 'segments'): string[] {
  if (layout === 'interleaved') {
    const out: string[] = [SPECIAL_TOKENS.bos];
    segments.s3.forEach((syntax, i) => out.push(syntax, segments.s4[i]));
    out.push(SPECIAL_TOKENS.eos);
    return out;
  }
  const sep = SPECIAL_TOKENS.separator;
  return [SPECIAL_TOKENS.bos, ...segments.s1, sep, ...segments.s2, sep, ...segments.s3, sep, ...segments.s4, SPECIAL_TOKENS.eos];
}

/** Splits a target (padding allowed after EOS) back into segments; throws TargetDecodeError. */
export function parseTarget(tokens: readonly string[], layout: TargetLayout = 'segments'): Segments {
  if (tokens.length === 0) throw new TargetDecodeError('empty', 'the sequence has no tokens');
  if (tokens[0] !== SPECIAL_TOKENS.bos) throw new TargetDecodeError('missing-bos', `the first token is ${tokens[0]}`);
  const eos = tokens.indexOf(SPECIAL_TOKENS.eos);
  if (eos < 0) throw new TargetDecodeError('missing-eos', 'no end-of-sequence token was generated');
  const body = tokens.slice(1, eos);
  if (layout === 'interleaved') {
    if (body.length % 2 !== 0) {
      throw new TargetDecodeError('length-mismatch', `an interleaved body needs (syntax, content) pairs, got ${body.length} tokens`);
    }
    const s3 = body.filter((_, i) => i % 2 === 0);
    const s4 = body.filter((_, i) => i % 2 === 1);
    return { s1: [], s2: [], s3, s4 };
  }
  const parts: string[][] = [[]];
  for (const token of body) {
    if (token === SPECIAL_TOKENS.separator) parts.push([]);
    else parts[parts.length - 1].push(token);
  }
  if (parts.length !== 4) {
    throw new TargetDecodeError('separator-count', `expected 3 separators between S1..S4, found ${parts.length - 1}`);
  }
  const [s1, s2, s3, s4] = parts;
  return { s1, s2, s3, s4 };
}
