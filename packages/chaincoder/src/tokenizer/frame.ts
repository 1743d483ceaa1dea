/**
 * The layout-frame / accessory split (S3 / S4). The tree is written as a
 * full-field constructor dump without spaces, e.g.
 * `Module(body=[Expr(value=Name(id='x',ctx=Load()))],type_ignores=[])`, and
 * cut at every leaf value: each content token (S4) is one leaf, and the
 * layout-frame token before it (S3) is the dump text since the previous leaf.
 * A program with N content tokens has N+1 frame tokens; S4 gets the
 * final-chasing token last so both have the same length.
 */
import { isAstNode, isPyConstant, fieldsOf, SINGLETON_CLASSES, CONTEXT_CLASSES, type AstNode, type AstValue } from '../ast/nodes.js';
import { pyStrRepr } from '../ast/literals.js';
import { constantTokens, identifierTokens } from './content.js';
import { SPECIAL_TOKENS } from './special-tokens.js';
import type { TokenizerMode } from './modes.js';

/** Identifier-valued fields, by node class. Their values are content tokens. */
export const IDENTIFIER_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Name: ['id'],
  FunctionDef: ['name'],
  AsyncFunctionDef: ['name'],
  ClassDef: ['name'],
  arg: ['arg'],
  Attribute: ['attr'],
  alias: ['name', 'asname'],
  ImportFrom: ['module'],
  keyword: ['arg'],
  ExceptHandler: ['name'],
  Global: ['names'],
  Nonlocal: ['names'],
  // Pattern captures bind names like assignments do; keyword attributes name attributes of the matched class.
  MatchAs: ['name'],
  MatchStar: ['name'],
  MatchMapping: ['rest'],
  MatchClass: ['kwd_attrs'],
};

const LOOP_CLASSES: ReadonlySet<string> = new Set(['For', 'AsyncFor', 'While']);

/** Small int fields that the reference treats as content (`is_async`, `conversion`); lossless adds `level`. */
function isIntContentField(type: string, field: string, mode: TokenizerMode): boolean {
  if (type === 'comprehension' && field === 'is_async') return true;
  if (type === 'FormattedValue' && field === 'conversion') return true;
  return mode === 'lossless' && type === 'ImportFrom' && field === 'level';
}

/** Origin of each pair in the program's structure, for outline strategies that follow it. */
export interface FrameProvenance {
  /** Pair index at which each top-level statement starts. */
  statementStarts: number[];
  /** Pair index range [start, end) of every loop body (For/AsyncFor/While), in source order. */
  loopBodies: { start: number; end: number }[];
}

export interface Frame {
  s3: string[];
  s4: string[];
  provenance: FrameProvenance;
}

interface FrameOptions {
  mode: TokenizerMode;
  /** Statement list whose entries count as top-level statements (module body, or a wrapper function's body). */
  outlineBody?: readonly AstNode[];
}

/** Splits a (normalized) tree into layout-frame and accessory tokens. */
export function buildFrame(tree: AstNode, options: FrameOptions): Frame {
  const s3: string[] = [];
  const s4: string[] = [];
  let buffer = '';
  const statementStarts: number[] = [];
  const loopBodies: { start: number; end: number }[] = [];
  const topLevel = new Set<AstNode>(options.outlineBody ?? (tree.body as AstNode[]));

  const emit = (tokens: string[]): void => {
    tokens.forEach((token, i) => {
      s3.push(i === 0 ? buffer : SPECIAL_TOKENS.onHold);
      s4.push(token);
    });
    buffer = '';
  };

  const isLeafNode = (parent: AstNode, field: string, node: AstNode): boolean => {
    if (!SINGLETON_CLASSES.has(node._type)) return false;
    if (!CONTEXT_CLASSES.has(node._type)) return true;
    // The reference bakes `ctx=` into the frame, except a Starred's context (compat only).
    return options.mode === 'compat' && parent._type === 'Starred' && field === 'ctx';
  };

  const value = (parent: AstNode, field: string, item: AstValue): void => {
    if (item === null) {
      buffer += 'None';
    } else if (Array.isArray(item)) {
      buffer += '[';
      item.forEach((element, i) => {
        if (i > 0) buffer += ',';
        value(parent, field, element);
      });
      buffer += ']';
    } else if (isPyConstant(item)) {
      emit(constantTokens(item, options.mode));
    } else if (isAstNode(item)) {
      if (isLeafNode(parent, field, item)) emit([`${item._type}()`]);
      else node(item);
    } else if (typeof item === 'string') {
      if (IDENTIFIER_FIELDS[parent._type]?.includes(field)) emit(identifierTokens(item));
      else buffer += pyStrRepr(item);
    } else if (isIntContentField(parent._type, field, options.mode)) {
      emit([String(item)]);
    } else {
      buffer += String(item);
    }
  };

  const node = (current: AstNode): void => {
    if (topLevel.has(current)) statementStarts.push(s4.length);
    buffer += `${current._type}(`;
    fieldsOf(current).forEach((field, i) => {
      if (i > 0) buffer += ',';
      buffer += `${field}=`;
      const isLoopBody = LOOP_CLASSES.has(current._type) && field === 'body';
      const start = s4.length;
      value(current, field, current[field]);
      if (isLoopBody) loopBodies.push({ start, end: s4.length });
    });
    buffer += ')';
  };

  node(tree);
  s3.push(buffer);
  s4.push(SPECIAL_TOKENS.finalChasing);
  return { s3, s4, provenance: { statementStarts, loopBodies } };
}
