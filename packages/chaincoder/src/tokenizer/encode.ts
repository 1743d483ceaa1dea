/**
 * Python source to the four token subsequences S1–S4.
 */
import { UsageError } from '@sculpt/core';
import { createPythonParser, type PythonParser } from '../ast/parse.js';
import type { AstNode } from '../ast/nodes.js';
import { buildFrame } from './frame.js';
import { DEFAULT_POOL_SIZE, TOKENIZER_MODES, type TokenizerMode } from './modes.js';
import { applyContentNormalization, computeRenames, toCompatShapes, WRAPPER_FUNCTION_NAME } from './normalize.js';
import { computeOutline, formatOutlineSpec, parseOutlineSpec, type OutlineSpec } from './outline.js';

export interface EncodeOptions {
  /** `lossless` (default) or `compat`. */
  mode?: TokenizerMode;
  /** Outline strategy; defaults to `ast` in lossless mode and `stride:500` in compat mode. */
  outline?: OutlineSpec | string;
  /** Rename program-chosen identifiers to pool names (default true). */
  renameIdentifiers?: boolean;
  /** Replace the value of every `Expr(Constant)` statement, docstrings included, by '' (default true). */
  emptyDocstrings?: boolean;
  /** Names per renaming pool (default 50, as in the reference). */
  poolSize?: number;
  /** Labels error messages. */
  file?: string;
}

export interface EncodedProgram {
  mode: TokenizerMode;
  /** Outline strategy that produced S1/S2, e.g. `stride:500` or `ast:32`. */
  outline: string;
  renameIdentifiers: boolean;
  emptyDocstrings: boolean;
  /** Outline: layout-frame tokens chosen by the outline strategy. */
  s1: string[];
  /** Core-algorithm hint: content tokens chosen by the outline strategy. */
  s2: string[];
  /** Layout frame: N+1 dump fragments. */
  s3: string[];
  /** Accessory: N content tokens and the final-chasing token. */
  s4: string[];
  /** Original identifier to pool name. */
  renames: Record<string, string>;
}

export interface ProgramTokenizer {
  /** Parses and tokenizes one program. Throws PythonSyntaxError, UnsupportedSyntaxError or PoolOverflowError. */
  encode(source: string, options?: EncodeOptions): EncodedProgram;
  /** Tokenizes an already-parsed tree. */
  encodeTree(tree: AstNode, options?: EncodeOptions): EncodedProgram;
  readonly parser: PythonParser;
}

export function resolveMode(mode: string | undefined): TokenizerMode {
  const resolved = mode ?? 'lossless';
  if (!TOKENIZER_MODES.includes(resolved as TokenizerMode)) {
    throw new UsageError(`unknown tokenizer mode '${resolved}'; use ${TOKENIZER_MODES.join(' or ')}`);
  }
  return resolved as TokenizerMode;
}

function resolveOutline(outline: OutlineSpec | string | undefined, mode: TokenizerMode): OutlineSpec {
  if (outline === undefined) return mode === 'compat' ? { strategy: 'stride', k: 500 } : parseOutlineSpec('ast');
  return typeof outline === 'string' ? parseOutlineSpec(outline) : outline;
}

/** Statements that count as top level for the `ast` outline: the wrapper function's body when there is one. */
function outlineBody(tree: AstNode): AstNode[] {
  const body = tree.body as AstNode[];
  const wrapper = body.find((stmt) => stmt._type === 'FunctionDef' && stmt.name === WRAPPER_FUNCTION_NAME);
  return wrapper === undefined ? body : (wrapper.body as AstNode[]);
}

export function encodeTree(tree: AstNode, options: EncodeOptions = {}): EncodedProgram {
  const mode = resolveMode(options.mode);
  const outlineSpec = resolveOutline(options.outline, mode);
  const renameIdentifiers = options.renameIdentifiers ?? true;
  const emptyDocstrings = options.emptyDocstrings ?? true;
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;

  // Compat drops fields first, so dropped parameters take no pool names.
  const shaped = mode === 'compat' ? toCompatShapes(tree) : tree;
  const renames = renameIdentifiers ? computeRenames(shaped, { mode, poolSize, file: options.file }) : new Map<string, string>();
  const normalized = applyContentNormalization(shaped, { renames, emptyDocstrings });

  const frame = buildFrame(normalized, { mode, outlineBody: outlineBody(normalized) });
  const { s1, s2 } = computeOutline(outlineSpec, frame.s3, frame.s4, frame.provenance);
  return {
    mode,
    outline: formatOutlineSpec(outlineSpec),
    renameIdentifiers,
    emptyDocstrings,
    s1,
    s2,
    s3: frame.s3,
    s4: frame.s4,
    renames: Object.fromEntries(renames),
  };
}

export async function createProgramTokenizer(): Promise<ProgramTokenizer> {
  const parser = await createPythonParser();
  return {
    parser,
    encode: (source, options = {}) => encodeTree(parser.parse(source, options.file), options),
    encodeTree,
  };
}

let shared: Promise<ProgramTokenizer> | undefined;

/** Tokenizes one program with a tokenizer shared by the whole process. */
export async function encodeProgram(source: string, options: EncodeOptions = {}): Promise<EncodedProgram> {
  shared ??= createProgramTokenizer();
  return (await shared).encode(source, options);
}
