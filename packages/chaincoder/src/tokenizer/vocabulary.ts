/**
 * Token vocabularies with two id spaces, as in the reference: an output
 * vocabulary for code (decoder) and an input vocabulary for I/O data
 * (encoder). Both start with the special tokens and a base content
 * vocabulary (ints −200…199, printable ASCII characters, name pools,
 * builtins, operator classes), then the content tokens observed in the
 * training data, then the layout-frame tokens seen at least `minSyntaxCount`
 * times. Saved as JSON.
 */
import { readFile } from 'node:fs/promises';
import { InputError, writeFileAtomic } from '@sculpt/core';
import { pyStrRepr } from '../ast/literals.js';
import { SINGLETON_CLASSES } from '../ast/nodes.js';
import { BUILTIN_NAMES } from './builtin-names.js';
import { COMPAT_FLOAT_GRID, pieceType } from './content.js';
import { pyFloatRepr } from '../ast/literals.js';
import { DEFAULT_POOL_SIZE, TOKENIZER_MODES, type TokenizerMode } from './modes.js';
import { NAME_POOLS, WRAPPER_FUNCTION_NAME } from './normalize.js';
import { SPECIAL_TOKEN_LIST, SPECIAL_TOKENS } from './special-tokens.js';
import type { EncodedProgram } from './encode.js';

export type VocabularyKind = 'input' | 'output';

const FORMAT = 'sculpt-chaincoder-vocabulary';

export interface VocabularyJson {
  format: typeof FORMAT;
  version: 1;
  kind: VocabularyKind;
  mode: TokenizerMode;
  minSyntaxCount: number;
  /** Outline strategy of the programs the vocabulary was built from, if any. */
  outline: string | null;
  tokens: string[];
  syntaxCounts: Record<string, number>;
}

/**
 * Returns the lookup key of a token. Compat mode reproduces the reference's
 * Python dict keys, where `True == 1 == 1.0` and `False == 0 == 0.0` collide.
 * Lossless keys are the token strings themselves, so every type stays distinct.
 */
export function vocabularyKey(token: string, mode: TokenizerMode): string {
  if (mode === 'lossless') return token;
  if (token === 'True') return '1';
  if (token === 'False') return '0';
  let type;
  try {
    type = pieceType(token);
  } catch {
    return token;
  }
  if (type === 'float' && Number.isInteger(Number(token))) return String(Number(token));
  return token;
}

/**
 * Content tokens every vocabulary contains, whatever the data.
 * TODO: compat mode does not reproduce the reference's id order (its sorted-by-repr initial set followed by sweep order), so compat ids differ from the released vocabulary's ids.
 */
export function baseContentTokens(mode: TokenizerMode, poolSize = DEFAULT_POOL_SIZE): string[] {
  const tokens: string[] = [];
  for (let i = -200; i < 200; i++) tokens.push(String(i));
  for (let code = 0x20; code < 0x7f; code++) tokens.push(pyStrRepr(String.fromCharCode(code)));
  tokens.push(pyStrRepr('\n'), pyStrRepr('\t'), pyStrRepr(''));
  tokens.push('None', 'True', 'False', 'Ellipsis');
  for (const name of SINGLETON_CLASSES) tokens.push(`${name}()`);
  tokens.push(pyStrRepr(WRAPPER_FUNCTION_NAME));
  for (const pool of NAME_POOLS) for (let i = 0; i < poolSize; i++) tokens.push(pyStrRepr(`${pool}_${i}`));
  for (const name of [...BUILTIN_NAMES].sort()) tokens.push(pyStrRepr(name));
  if (mode === 'compat') for (const value of COMPAT_FLOAT_GRID) tokens.push(pyFloatRepr(value));
  return tokens;
}

export class Vocabulary {
  private readonly index = new Map<string, number>();
  readonly tokens: string[] = [];

  constructor(
    readonly kind: VocabularyKind,
    readonly mode: TokenizerMode,
    tokens: Iterable<string>,
    readonly syntaxCounts: Record<string, number> = {},
    readonly minSyntaxCount = 1,
    readonly outline: string | null = null,
  ) {
    for (const token of tokens) this.add(token);
  }

  private add(token: string): void {
    const key = vocabularyKey(token, this.mode);
    if (this.index.has(key)) return;
    this.index.set(key, this.tokens.length);
    this.tokens.push(token);
  }

  get size(): number {
    return this.tokens.length;
  }

  has(token: string): boolean {
    return this.index.has(vocabularyKey(token, this.mode));
  }

  /** Returns the id of a token, or the unknown token's id for a token missing from the vocabulary. */
  id(token: string): number {
    return this.index.get(vocabularyKey(token, this.mode)) ?? this.index.get(SPECIAL_TOKENS.unknown)!;
  }

  get unknownId(): number {
    return this.index.get(SPECIAL_TOKENS.unknown)!;
  }

  specialId(name: keyof typeof SPECIAL_TOKENS): number {
    return this.index.get(SPECIAL_TOKENS[name])!;
  }

  /** Checks that every token is in the vocabulary; programs that fail this are dropped from training after a count cut. */
  covers(tokens: readonly string[]): boolean {
    return tokens.every((token) => this.has(token));
  }

  encodeIds(tokens: readonly string[]): number[] {
    return tokens.map((token) => this.id(token));
  }

  decodeIds(ids: readonly number[]): string[] {
    return ids.map((id) => {
      const token = this.tokens[id];
      if (token === undefined) throw new InputError(`token id ${id} is outside the ${this.kind} vocabulary (size ${this.size})`);
      return token;
    });
  }

  toJSON(): VocabularyJson {
    return {
      format: FORMAT,
      version: 1,
      kind: this.kind,
      mode: this.mode,
      minSyntaxCount: this.minSyntaxCount,
      outline: this.outline,
      tokens: this.tokens,
      syntaxCounts: this.syntaxCounts,
    };
  }

  static fromJSON(json: unknown, file?: string): Vocabulary {
    const data = json as Partial<VocabularyJson>;
    if (data === null || typeof data !== 'object' || data.format !== FORMAT) {
      throw new InputError(`not a ChainCoder vocabulary (expected "format": "${FORMAT}")`, file);
    }
    if (data.kind !== 'input' && data.kind !== 'output') throw new InputError(`invalid vocabulary kind ${String(data.kind)}`, file);
    if (!TOKENIZER_MODES.includes(data.mode as TokenizerMode)) throw new InputError(`invalid tokenizer mode ${String(data.mode)}`, file);
    if (!Array.isArray(data.tokens) || !data.tokens.every((t) => typeof t === 'string')) {
      throw new InputError('vocabulary "tokens" must be an array of strings', file);
    }
    const vocabulary = new Vocabulary(data.kind, data.mode as TokenizerMode, data.tokens, data.syntaxCounts ?? {}, data.minSyntaxCount ?? 1, data.outline ?? null);
    if (vocabulary.size !== data.tokens.length) {
      throw new InputError(`vocabulary has duplicate tokens (${data.tokens.length - vocabulary.size} repeated keys)`, file);
    }
    for (const special of SPECIAL_TOKEN_LIST) {
      if (!vocabulary.has(special)) throw new InputError(`vocabulary lacks the special token ${special}`, file);
    }
    return vocabulary;
  }

  async save(path: string): Promise<void> {
    await writeFileAtomic(path, JSON.stringify(this.toJSON()) + '\n');
  }

  static async load(path: string): Promise<Vocabulary> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read vocabulary: ${(error as Error).message}`, path);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new InputError(`vocabulary is not valid JSON: ${(error as Error).message}`, path);
    }
    return Vocabulary.fromJSON(json, path);
  }
}

/** Frame/content token lists of one tokenized sequence (a program or an I/O sample). */
export interface TokenizedPairs {
  s3: readonly string[];
  s4: readonly string[];
}

export interface VocabularyReport {
  programs: number;
  distinctSyntaxTokens: number;
  keptSyntaxTokens: number;
  /** Share of syntax token occurrences whose token was kept. */
  syntaxOccurrenceCoverage: number;
  /** Programs whose every syntax token was kept (the rest would be dropped from training). */
  programsFullyCovered: number;
}

export interface BuiltVocabularies {
  input: Vocabulary;
  output: Vocabulary;
  report: VocabularyReport;
}

function countTokens(sequences: readonly TokenizedPairs[], pick: 's3' | 's4'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sequence of sequences) for (const token of sequence[pick]) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

function compareText(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** Sorts tokens by descending count, ties by code-unit order, so ids do not depend on input order. */
function byCountThenText(counts: Map<string, number>): string[] {
  const entries = [...counts.entries()].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]));
  return entries.map(([token]) => token);
}

/**
 * Builds the output (code) and input (I/O data) vocabularies from training
 * data. Content tokens are shared: both vocabularies get every observed content token.
 */
export function buildVocabularies(
  programs: readonly EncodedProgram[],
  ioSamples: readonly TokenizedPairs[],
  options: { mode: TokenizerMode; minSyntaxCount?: number; poolSize?: number },
): BuiltVocabularies {
  const minSyntaxCount = options.minSyntaxCount ?? 1;
  const base = [...SPECIAL_TOKEN_LIST, ...baseContentTokens(options.mode, options.poolSize)];
  const content = byCountThenText(new Map([...countTokens(programs, 's4'), ...countTokens(ioSamples, 's4')]));
  const observedContent = content.filter((token) => !SPECIAL_TOKEN_LIST.includes(token));

  const codeSyntax = countTokens(programs, 's3');
  codeSyntax.delete(SPECIAL_TOKENS.onHold);
  const keptSyntax = byCountThenText(codeSyntax).filter((token) => codeSyntax.get(token)! >= minSyntaxCount);
  const ioSyntax = countTokens(ioSamples, 's3');
  ioSyntax.delete(SPECIAL_TOKENS.onHold);

  const outlines = [...new Set(programs.map((p) => p.outline))];
  const outline = outlines.length === 1 ? outlines[0] : null;
  const output = new Vocabulary('output', options.mode, [...base, ...observedContent, ...keptSyntax], Object.fromEntries(codeSyntax), minSyntaxCount, outline);
  const input = new Vocabulary('input', options.mode, [...base, ...observedContent, ...byCountThenText(ioSyntax)], Object.fromEntries(ioSyntax), 1, null);

  let total = 0;
  let covered = 0;
  for (const [, count] of codeSyntax) total += count;
  for (const token of keptSyntax) covered += codeSyntax.get(token)!;
  const keptSet = new Set(keptSyntax);
  const programsFullyCovered = programs.filter((p) => p.s3.every((t) => t === SPECIAL_TOKENS.onHold || keptSet.has(t))).length;
  return {
    input,
    output,
    report: {
      programs: programs.length,
      distinctSyntaxTokens: codeSyntax.size,
      keptSyntaxTokens: keptSyntax.length,
      syntaxOccurrenceCoverage: total === 0 ? 1 : covered / total,
      programsFullyCovered,
    },
  };
}
