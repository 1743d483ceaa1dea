/**
 * Content ("accessory") tokens: how one leaf value of the tree becomes one or
 * more token strings, and how a run of token strings becomes a value again.
 *
 * Token strings are Python literal texts, so they are typed by their spelling:
 * identifiers and string characters are quoted (`'var_0'`, `'b'`), ints are
 * decimal (`7`), `True`/`False`/`None`/`Ellipsis` are bare words, bytes are
 * `b'…'`, singleton nodes are `Gt()`. Long values are split into pieces: ints
 * into decimal digits, strings into characters, and (lossless) floats into
 * the characters of Python's `repr`, with digits as int pieces and the rest
 * (`.`, `e`, `+`, `-`, `j`) as one-character strings.
 */
import { pyBytesRepr, pyComplexRepr, pyFloatRepr, pyStrRepr } from '../ast/literals.js';
import type { PyConstant } from '../ast/nodes.js';
import { MAX_INT_TOKEN, type TokenizerMode } from './modes.js';

/**
 * The reference's float vocabulary: 0–1 in steps of 0.01, 0–10 in steps of
 * 0.1 and the powers of ten from 1e-9 to 1e4. Compat mode snaps every float
 * to the nearest of these (ties go to the smaller value).
 */
export const COMPAT_FLOAT_GRID: readonly number[] = (() => {
  const values = new Set<number>();
  for (let i = 0; i <= 100; i++) values.add(i / 100);
  for (let i = 0; i <= 100; i++) values.add(i / 10);
  for (let k = -9; k <= 4; k++) values.add(Number(`1e${k}`));
  return [...values].sort((a, b) => a - b);
})();

// NOTE: the reference does not document whether the ranges include 1.0 and 10.0, or how ties snap. Both are included here, and ties go down.
export function snapToFloatGrid(value: number): number {
  let best = COMPAT_FLOAT_GRID[0];
  for (const candidate of COMPAT_FLOAT_GRID) {
    if (Math.abs(candidate - value) < Math.abs(best - value)) best = candidate;
  }
  return best;
}

/** Token strings for an identifier (never split). */
export function identifierTokens(name: string): string[] {
  return [pyStrRepr(name)];
}

/** Token strings for a `Constant.value`; more than one string means the value was split into pieces. */
export function constantTokens(value: PyConstant, mode: TokenizerMode): string[] {
  switch (value.py) {
    case 'str': {
      const chars = Array.from(value.value);
      return chars.length <= 1 ? [pyStrRepr(value.value)] : chars.map((ch) => pyStrRepr(ch));
    }
    case 'int':
      return intTokens(value.value, mode);
    case 'float':
      if (mode === 'compat') return [pyFloatRepr(snapToFloatGrid(value.value))];
      // repr(inf) is not a literal; 1e309 reads back as inf.
      return numberPieces(Number.isFinite(value.value) ? pyFloatRepr(value.value) : '1e309');
    case 'complex':
      if (mode === 'compat') return [pyComplexRepr(value.value)];
      return numberPieces(Number.isFinite(value.value) ? pyComplexRepr(value.value) : '1e309j');
    case 'bytes':
      return [pyBytesRepr(value.value)];
    case 'bool':
      return [value.value ? 'True' : 'False'];
    case 'None':
      return ['None'];
    case 'Ellipsis':
      return ['Ellipsis'];
  }
}

/** Ints of the base vocabulary stay whole; larger ones become decimal digits. */
export function intTokens(value: bigint, mode: TokenizerMode): string[] {
  const limit = BigInt(MAX_INT_TOKEN);
  // The reference tests `> 200`, so 200 itself stays whole in compat mode.
  const whole = mode === 'compat' ? value <= limit : value < limit;
  if (whole) return [value.toString()];
  return Array.from(value.toString());
}

function numberPieces(text: string): string[] {
  return Array.from(text).map((ch) => (ch >= '0' && ch <= '9' ? ch : pyStrRepr(ch)));
}

/** The Python type a content token string spells. */
export type PieceType = 'str' | 'int' | 'float' | 'complex' | 'bytes' | 'bool' | 'None' | 'Ellipsis' | 'node' | 'special';

export function pieceType(token: string): PieceType {
  if (token.startsWith('<<||') && token.endsWith('||>>')) return 'special';
  if (token.startsWith("'") || token.startsWith('"')) return 'str';
  if (token.startsWith("b'") || token.startsWith('b"')) return 'bytes';
  if (/^-?\d+$/.test(token)) return 'int';
  if (token === 'True' || token === 'False') return 'bool';
  if (token === 'None' || token === 'Ellipsis') return token;
  if (/^[A-Za-z]+\(\)$/.test(token)) return 'node';
  if (/^[\d.]+(e[+-]\d+)?j$|^\d+j$/.test(token)) return 'complex';
  if (/^(\d+\.\d*|\d*\.\d+)(e[+-]\d+)?$|^\d+e[+-]\d+$|^inf$/.test(token)) return 'float';
  throw new Error(`not a content token: ${token}`);
}

/**
 * Joins the pieces of one split value back into a single literal text.
 * Returns null when the pieces cannot form one value (e.g. a str piece
 * followed by a bytes piece).
 */
export function joinPieces(pieces: readonly string[], unquote: (literal: string) => string): string | null {
  if (pieces.length === 1) return pieces[0];
  const types = pieces.map(pieceType);
  if (types.every((t) => t === 'int')) {
    const digits = pieces.join('');
    return /^\d+$/.test(digits) ? digits.replace(/^0+(?=\d)/, '') : null;
  }
  if (types.every((t) => t === 'str')) return pyStrRepr(pieces.map(unquote).join(''));
  // A mix of digits and one-character strings is a float or an imaginary number.
  if (types.every((t) => t === 'str' || t === 'int')) {
    const text = pieces.map((piece, i) => (types[i] === 'int' ? piece : unquote(piece))).join('');
    if (/^(\d+\.\d*|\d*\.\d+|\d+)(e[+-]?\d+)?j?$/.test(text) && /[.ej]/.test(text)) return text;
  }
  return null;
}
