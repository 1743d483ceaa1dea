/**
 * Which content (S4) tokens may fill a hole of the layout frame. A hole's
 * kind comes from the frame grammar (an identifier, a constant, an operator
 * of one category, …), and a constant split over several pieces must join
 * back into one value: a run of string pieces, or digits with the `.`, `e`,
 * `+`, `-` and `j` pieces of a float or imaginary literal.
 */
import { pieceType, type PieceType } from '../tokenizer/content.js';
import { parseDump } from '../tokenizer/dump-parser.js';
import type { AstNode } from '../ast/nodes.js';
import type { HoleKind } from '../tokenizer/frame-grammar-schema.js';

/** Python 3.11 hard keywords, which are never identifiers. */
const KEYWORDS: ReadonlySet<string> = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except',
  'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
  'while', 'with', 'yield',
]);
const IDENTIFIER = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;

const OPERATORS = ['Add', 'Sub', 'Mult', 'MatMult', 'Div', 'Mod', 'Pow', 'LShift', 'RShift', 'BitOr', 'BitXor', 'BitAnd', 'FloorDiv'];
const SINGLETONS_BY_HOLE: Partial<Record<HoleKind, readonly string[]>> = {
  operator: OPERATORS,
  boolop: ['And', 'Or'],
  unaryop: ['Invert', 'Not', 'UAdd', 'USub'],
  usub: ['USub'],
  'sign-operator': ['Add', 'Sub'],
  cmpop: ['Eq', 'NotEq', 'Lt', 'LtE', 'Gt', 'GtE', 'Is', 'IsNot', 'In', 'NotIn'],
  'statement-singleton': ['Pass', 'Break', 'Continue'],
  context: ['Load', 'Store', 'Del'],
};

/**
 * States of a number spelled in pieces: digits, then optionally `.` and
 * digits, `e` with an optional sign and digits, and a final `j`.
 */
const enum NumberState {
  Integer,
  Dot,
  Fraction,
  Exponent,
  ExponentSign,
  ExponentDigits,
  Imaginary,
}
const NUMBER_STATES = 7;
/** Piece state of a string value, beside the number states. */
export const STRING_PIECES = 100;

type NumberPiece = 'digit' | '.' | 'e' | 'sign' | 'j';

/** Transitions of the number-literal automaton; a missing entry rejects the piece. */
const NUMBER_TRANSITIONS: Readonly<Record<NumberState, Partial<Record<NumberPiece, NumberState>>>> = {
  [NumberState.Integer]: { digit: NumberState.Integer, '.': NumberState.Dot, e: NumberState.Exponent, j: NumberState.Imaginary },
  [NumberState.Dot]: { digit: NumberState.Fraction, e: NumberState.Exponent, j: NumberState.Imaginary },
  [NumberState.Fraction]: { digit: NumberState.Fraction, e: NumberState.Exponent, j: NumberState.Imaginary },
  [NumberState.Exponent]: { digit: NumberState.ExponentDigits, sign: NumberState.ExponentSign },
  [NumberState.ExponentSign]: { digit: NumberState.ExponentDigits },
  [NumberState.ExponentDigits]: { digit: NumberState.ExponentDigits, j: NumberState.Imaginary },
  [NumberState.Imaginary]: {},
};

function numberTransition(state: NumberState, piece: NumberPiece): NumberState | null {
  return NUMBER_TRANSITIONS[state][piece] ?? null;
}

const NUMBER_PIECES: readonly NumberPiece[] = ['digit', '.', 'e', 'sign', 'j'];
/** Maximum run of pieces tracked exactly. Longer runs behave like this one, because digits repeat freely. */
const MAX_TRACKED_PIECES = 64;

/** Returns the number states in which a value of the hole kind may end. */
function acceptingStates(kind: HoleKind): ReadonlySet<NumberState> {
  const real = [NumberState.Integer, NumberState.Dot, NumberState.Fraction, NumberState.ExponentDigits];
  if (kind === 'real-constant') return new Set(real);
  if (kind === 'imaginary-constant') return new Set([NumberState.Imaginary]);
  return new Set([...real, NumberState.Imaginary]);
}

/** `reachable[state][r]`: some run of exactly r more pieces leads from the state to an accepting state. */
function reachability(accepting: ReadonlySet<NumberState>): boolean[][] {
  const table = Array.from({ length: NUMBER_STATES }, (_, state) => [accepting.has(state)]);
  for (let r = 1; r <= MAX_TRACKED_PIECES; r++) {
    for (let state = 0; state < NUMBER_STATES; state++) {
      table[state][r] = NUMBER_PIECES.some((piece) => {
        const next = numberTransition(state, piece);
        return next !== null && table[next][r - 1];
      });
    }
  }
  return table;
}

interface ContentToken {
  id: number;
  type: PieceType;
  /** The string a str token spells, unquoted. */
  text?: string;
}

/** Content token sets per hole kind, built once from the output vocabulary. */
export class ContentClasses {
  readonly #single = new Map<HoleKind, ReadonlySet<number>>();
  readonly #strings: ReadonlySet<number>;
  readonly #digits: ReadonlySet<number>;
  readonly #numberPieces = new Map<NumberPiece, ReadonlySet<number>>();
  readonly #pieceOf = new Map<number, NumberPiece>();
  readonly #reachable = new Map<HoleKind, boolean[][]>();
  readonly #cache = new Map<string, ReadonlySet<number>>();

  /** `texts` maps content token ids (special tokens excluded) to their text. */
  constructor(texts: ReadonlyMap<number, string>) {
    const tokens: ContentToken[] = [];
    for (const [id, text] of texts) {
      let type: PieceType;
      try {
        type = pieceType(text);
      } catch {
        continue;
      }
      if (type === 'special') continue;
      tokens.push(type === 'str' ? { id, type, text: unquoteString(text) ?? undefined } : { id, type });
    }
    const textOf = new Map(tokens.map((token) => [token.id, texts.get(token.id)!]));
    const ids = (keep: (token: ContentToken) => boolean): ReadonlySet<number> => new Set(tokens.filter(keep).map((token) => token.id));
    const isNonNegativeInt = (token: ContentToken): boolean => token.type === 'int' && /^\d+$/.test(textOf.get(token.id)!);
    const isNonNegativeNumber = (token: ContentToken): boolean => isNonNegativeInt(token) || token.type === 'float' || token.type === 'complex';
    const intIn = (values: readonly number[]) => (token: ContentToken): boolean => token.type === 'int' && values.includes(Number(textOf.get(token.id)));
    const constantTypes: ReadonlySet<PieceType> = new Set(['str', 'int', 'float', 'complex', 'bytes', 'bool', 'None', 'Ellipsis']);

    this.#single.set('identifier', ids((token) => token.text !== undefined && isIdentifier(token.text)));
    this.#single.set('dotted-name', ids((token) => token.text !== undefined && token.text.split('.').every(isIdentifier)));
    this.#single.set('constant', ids((token) => constantTypes.has(token.type) && (token.type !== 'str' || token.text !== undefined)));
    this.#single.set('string-constant', ids((token) => token.type === 'str' && token.text !== undefined));
    this.#single.set('match-constant', ids((token) => constantTypes.has(token.type) && token.type !== 'Ellipsis' && (token.type !== 'str' || token.text !== undefined)));
    this.#single.set('number-constant', ids(isNonNegativeNumber));
    this.#single.set('real-constant', ids((token) => isNonNegativeInt(token) || token.type === 'float'));
    this.#single.set('imaginary-constant', ids((token) => token.type === 'complex'));
    this.#single.set('singleton-constant', ids((token) => token.type === 'None' || token.type === 'bool'));
    this.#single.set('async-flag', ids(intIn([0, 1])));
    this.#single.set('conversion', ids(intIn([-1, 115, 114, 97])));
    this.#single.set('level', ids(isNonNegativeInt));
    this.#single.set('relative-level', ids((token) => isNonNegativeInt(token) && Number(textOf.get(token.id)) > 0));
    for (const [hole, classes] of Object.entries(SINGLETONS_BY_HOLE)) {
      const names = new Set(classes.map((name) => `${name}()`));
      this.#single.set(hole as HoleKind, ids((token) => token.type === 'node' && names.has(textOf.get(token.id)!)));
    }

    this.#strings = this.#single.get('string-constant')!;
    this.#digits = ids(isNonNegativeInt);
    this.#numberPieces.set('digit', this.#digits);
    for (const id of this.#digits) this.#pieceOf.set(id, 'digit');
    const symbolPieces: Record<string, NumberPiece> = { '.': '.', e: 'e', '+': 'sign', '-': 'sign', j: 'j' };
    for (const [symbol, piece] of Object.entries(symbolPieces)) {
      const matching = tokens.filter((token) => token.type === 'str' && token.text === symbol).map((token) => token.id);
      const set = new Set([...(this.#numberPieces.get(piece) ?? []), ...matching]);
      this.#numberPieces.set(piece, set);
      for (const id of matching) this.#pieceOf.set(id, piece);
    }
  }

  /** Returns the content tokens for a hole that takes the whole value in one token. */
  single(kind: HoleKind): ReadonlySet<number> {
    return this.#single.get(kind) ?? new Set();
  }

  /**
   * Content tokens for piece `index` of a value split into `count` pieces,
   * given the piece state after the earlier pieces (see `nextPieceState`).
   */
  piece(kind: HoleKind, index: number, count: number, state: number): ReadonlySet<number> {
    if (count === 1) return this.single(kind);
    const remaining = Math.min(count - 1 - index, MAX_TRACKED_PIECES);
    const key = `${kind}:${index === 0 ? 'first' : state}:${remaining}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const allowed = new Set<number>();
    const reachable = this.#reachableFor(kind);
    const allowsStrings = kind === 'constant' || kind === 'string-constant' || kind === 'match-constant';
    const allowsNumbers = kind !== 'string-constant';
    if (allowsStrings && (index === 0 || state === STRING_PIECES)) for (const id of this.#strings) allowed.add(id);
    if (allowsNumbers && (index === 0 || state !== STRING_PIECES)) {
      for (const piece of NUMBER_PIECES) {
        // A number in pieces starts with digits, and later pieces follow the literal's grammar.
        let next: NumberState | null;
        if (index > 0) next = numberTransition(state as NumberState, piece);
        else next = piece === 'digit' ? NumberState.Integer : null;
        if (next === null || !reachable[next][remaining]) continue;
        for (const id of this.#numberPieces.get(piece) ?? []) allowed.add(id);
      }
    }
    this.#cache.set(key, allowed);
    return allowed;
  }

  /** Piece state after one more piece: STRING_PIECES for a string run, else the number state. */
  nextPieceState(index: number, state: number, token: number): number {
    const piece = this.#pieceOf.get(token);
    if (index === 0) return piece === 'digit' ? NumberState.Integer : STRING_PIECES;
    if (state === STRING_PIECES || piece === undefined) return STRING_PIECES;
    return numberTransition(state as NumberState, piece) ?? STRING_PIECES;
  }

  #reachableFor(kind: HoleKind): boolean[][] {
    let table = this.#reachable.get(kind);
    if (table === undefined) {
      table = reachability(acceptingStates(kind));
      this.#reachable.set(kind, table);
    }
    return table;
  }
}

function isIdentifier(text: string): boolean {
  return IDENTIFIER.test(text) && !KEYWORDS.has(text);
}

/** Returns the string a str token spells, or null when it is not a valid literal. */
function unquoteString(token: string): string | null {
  if (token.length === 3 && token[0] === "'" && token[2] === "'" && token[1] !== '\\') return token[1];
  try {
    const tree = parseDump(`Module(body=[Expr(value=Constant(value=${token},kind=None))],type_ignores=[])`);
    const constant = ((tree.body as AstNode[])[0].value as AstNode).value as { py: string; value: string };
    return constant.py === 'str' ? constant.value : null;
  } catch {
    return null;
  }
}
