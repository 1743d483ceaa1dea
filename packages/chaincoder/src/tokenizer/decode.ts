/**
 * S3/S4 (or a whole decoder target) back to a tree and to Python source.
 * Joining frame tokens with content literals gives the dump text; split
 * values (digits, characters, float pieces) are joined first.
 */
import { unparse } from '../ast/unparse.js';
import type { AstNode } from '../ast/nodes.js';
import { joinPieces, pieceType } from './content.js';
import { parseDump, DumpSyntaxError } from './dump-parser.js';
import { fromCompatShapes } from './normalize.js';
import { SPECIAL_TOKENS, isSpecialToken } from './special-tokens.js';
import { TargetDecodeError, parseTarget, type DecodeFailureReason, type TargetLayout } from './target.js';
import type { TokenizerMode } from './modes.js';

export interface DecodedProgram {
  source: string;
  tree: AstNode;
  /** The joined dump text the tree was read from. */
  dump: string;
}

export type DecodeResult = ({ ok: true } & DecodedProgram) | { ok: false; reason: DecodeFailureReason; detail: string };

/** Unquotes a one-character (or longer) str token such as `'a'` or `"'"`. */
function unquote(token: string): string {
  // Most pieces are one plain character in single quotes, like 'a'.
  if (token.length === 3 && token[0] === "'" && token[2] === "'" && token[1] !== '\\') return token[1];
  const tree = parseDump(`Module(body=[Expr(value=Constant(value=${token},kind=None))],type_ignores=[])`);
  const constant = ((tree.body as AstNode[])[0].value as AstNode).value as { py: string; value: string };
  return constant.value;
}

/** Rebuilds the dump text from S3/S4; throws TargetDecodeError. */
export function joinFrame(s3: readonly string[], s4: readonly string[]): string {
  if (s3.length !== s4.length) {
    throw new TargetDecodeError('length-mismatch', `S3 has ${s3.length} tokens but S4 has ${s4.length}`);
  }
  if (s3.length === 0) throw new TargetDecodeError('empty', 'S3 and S4 are empty');
  if (s4[s4.length - 1] !== SPECIAL_TOKENS.finalChasing) {
    throw new TargetDecodeError('misplaced-special', 'S4 must end with the final-chasing token');
  }
  let text = '';
  let pieces: string[] = [];
  const flush = (): void => {
    if (pieces.length === 0) return;
    let joined: string | null;
    try {
      joined = joinPieces(pieces, unquote);
    } catch {
      joined = null;
    }
    if (joined === null) throw new TargetDecodeError('invalid-piece-run', `pieces ${pieces.join(' ')} do not form one value`);
    text += joined;
    pieces = [];
  };
  for (let i = 0; i < s3.length; i++) {
    const syntax = s3[i];
    const content = s4[i];
    const last = i === s3.length - 1;
    if (syntax === SPECIAL_TOKENS.unknown || content === SPECIAL_TOKENS.unknown) {
      throw new TargetDecodeError('unknown-token', `pair ${i} contains the unknown token`);
    }
    if (syntax === SPECIAL_TOKENS.onHold) {
      if (i === 0 || pieces.length === 0) throw new TargetDecodeError('misplaced-special', `pair ${i} continues no value`);
    } else {
      if (isSpecialToken(syntax)) throw new TargetDecodeError('misplaced-special', `S3[${i}] is ${syntax}`);
      flush();
      text += syntax;
    }
    if (last) break;
    if (isSpecialToken(content)) throw new TargetDecodeError('misplaced-special', `S4[${i}] is ${content}`);
    try {
      pieceType(content);
    } catch {
      throw new TargetDecodeError('unknown-token', `S4[${i}] is not a content token: ${content}`);
    }
    pieces.push(content);
  }
  flush();
  return text;
}

/** Decodes S3/S4 to a tree and source; throws TargetDecodeError. */
export function decodeFrame(s3: readonly string[], s4: readonly string[], mode: TokenizerMode = 'lossless'): DecodedProgram {
  const dump = joinFrame(s3, s4);
  let tree: AstNode;
  try {
    tree = parseDump(dump);
  } catch (error) {
    if (error instanceof DumpSyntaxError) throw new TargetDecodeError('unbalanced-frame', error.message);
    throw error;
  }
  const plain = mode === 'compat' ? fromCompatShapes(tree) : tree;
  let source: string;
  try {
    source = unparse(plain);
  } catch (error) {
    throw new TargetDecodeError('invalid-tree', `the frame does not form a valid program: ${(error as Error).message}`);
  }
  return { source, tree: plain, dump };
}

/** Decodes a whole decoder target; throws TargetDecodeError. */
export function decodeProgram(
  target: readonly string[],
  options: { mode?: TokenizerMode; layout?: TargetLayout } = {},
): DecodedProgram {
  const { s3, s4 } = parseTarget(target, options.layout ?? 'segments');
  return decodeFrame(s3, s4, options.mode ?? 'lossless');
}

/** Like decodeProgram, but reports the failure reason instead of throwing. */
export function tryDecodeProgram(
  target: readonly string[],
  options: { mode?: TokenizerMode; layout?: TargetLayout } = {},
): DecodeResult {
  try {
    return { ok: true, ...decodeProgram(target, options) };
  } catch (error) {
    if (error instanceof TargetDecodeError) return { ok: false, reason: error.reason, detail: error.detail };
    throw error;
  }
}
