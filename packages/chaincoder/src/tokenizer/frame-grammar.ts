/**
 * An incremental recognizer for layout frames (S3). The frame builder cuts a
 * full-field AST dump at every leaf, so S3 token j is a dump fragment
 * followed by a hole where S4 token j goes (the last token has no hole). The
 * recognizer reads fragments and holes one at a time and rejects a prefix as
 * soon as no valid dump of a Python 3.11 tree can extend it.
 *
 * Fragments are first split into lexemes (`Name(`, `id=`, `[`, `]`, `,`, `)`,
 * `None`, frame literals). The state is an immutable linked stack of open
 * nodes and lists, so cloning is free and one step allocates only the items
 * it changes. `minHoles` gives the fewest holes any completion still needs,
 * which bounds the S3 tokens left to generate.
 */
import { NODE_FIELDS } from '../ast/nodes.js';
import { classOfVariant, schemaTables, type HoleKind } from './frame-grammar-schema.js';
import type { TokenizerMode } from './modes.js';

export type Lexeme =
  | { readonly type: 'open'; readonly name: string }
  | { readonly type: 'field'; readonly name: string }
  | { readonly type: '[' | ']' | ',' | ')' | 'None' | 'int' | 'str' };

const WORD = /[A-Za-z_][A-Za-z_0-9]*/y;
const INT = /-?\d+/y;
const PUNCTUATION: Readonly<Record<string, Lexeme>> = { '[': { type: '[' }, ']': { type: ']' }, ',': { type: ',' }, ')': { type: ')' } };
const NONE: Lexeme = { type: 'None' };
const INT_LEXEME: Lexeme = { type: 'int' };
const STR_LEXEME: Lexeme = { type: 'str' };

/** Splits a frame fragment into lexemes; returns null when it is not dump text. */
export function lexFragment(fragment: string): Lexeme[] | null {
  const lexemes: Lexeme[] = [];
  let pos = 0;
  while (pos < fragment.length) {
    const char = fragment[pos];
    const punctuation = PUNCTUATION[char];
    if (punctuation !== undefined) {
      lexemes.push(punctuation);
      pos++;
      continue;
    }
    if (char === "'" || char === '"') {
      const end = endOfQuoted(fragment, pos);
      if (end < 0) return null;
      lexemes.push(STR_LEXEME);
      pos = end;
      continue;
    }
    INT.lastIndex = pos;
    const number = INT.exec(fragment);
    if (number !== null) {
      lexemes.push(INT_LEXEME);
      pos += number[0].length;
      continue;
    }
    WORD.lastIndex = pos;
    const word = WORD.exec(fragment)?.[0];
    if (word === undefined) return null;
    pos += word.length;
    if (fragment[pos] === '(') {
      lexemes.push({ type: 'open', name: word });
      pos++;
    } else if (fragment[pos] === '=') {
      lexemes.push({ type: 'field', name: word });
      pos++;
    } else if (word === 'None') {
      lexemes.push(NONE);
    } else {
      return null;
    }
  }
  return lexemes;
}

/** Offset just past the string literal that starts at `start`, or -1 when it is not closed. */
function endOfQuoted(text: string, start: number): number {
  const quote = text[start];
  for (let pos = start + 1; pos < text.length; pos++) {
    if (text[pos] === '\\') pos++;
    else if (text[pos] === quote) return pos + 1;
  }
  return -1;
}

/** Allowed values of a field: node classes, a hole, None, a frame literal, or a list of an element kind. */
export interface FieldKind {
  readonly name: string;
  /** Admitted variants by class name. */
  readonly variants: ReadonlyMap<string, NodeVariant>;
  readonly hole: HoleKind | null;
  readonly allowsNone: boolean;
  readonly literal: 'int' | 'str' | null;
  readonly list: { readonly element: FieldKind; readonly min: number } | null;
  /** Minimum number of holes in a value of this kind. */
  cost: number;
}

export interface NodeVariant {
  readonly name: string;
  readonly className: string;
  readonly fields: readonly { readonly name: string; readonly kind: FieldKind }[];
}

/** A field kind with the list length limits that earlier fields of the same node imply. */
interface Slot {
  readonly kind: FieldKind;
  readonly min: number;
  readonly max: number;
}

const enum Phase {
  /** A node expects `field=` (or `)` for a class without fields). */
  FieldName,
  /** A node expects the value of the current field. */
  Value,
  /** A node's current field is being filled by the item above it. */
  Child,
  /** A node expects `,` before the next field or `)` after the last. */
  Separator,
  /** A list expects its first element or `]`. */
  ListStart,
  /** A list expects `,` or `]`. */
  ListElement,
  /** A list expects an element after `,`. */
  ListComma,
  /** The root expects the Module node. */
  Root,
  /** The dump is complete. */
  Done,
}

interface NodeItem {
  readonly phase: Phase.FieldName | Phase.Value | Phase.Child | Phase.Separator;
  readonly variant: NodeVariant;
  readonly field: number;
  /** Bit i is set when field i contains a node, a hole, a literal or a non-empty list. */
  readonly filled: number;
  readonly lengths: readonly number[];
  readonly slot?: undefined;
}

interface ListItem {
  readonly phase: Phase.ListStart | Phase.ListElement | Phase.ListComma | Phase.Child;
  readonly slot: Slot;
  readonly count: number;
  readonly variant?: undefined;
}

interface RootItem {
  readonly phase: Phase.Root | Phase.Done | Phase.Child;
  readonly variant?: undefined;
  readonly slot?: undefined;
}

type Item = NodeItem | ListItem | RootItem;

interface StackFrame {
  readonly item: Item;
  readonly below: StackFrame | null;
}

/** A recognizer state: immutable, so it can be shared between candidate continuations. */
export interface FrameGrammarState {
  readonly stack: StackFrame;
  /** Kind of the hole just read, when no fragment followed it yet (an on-hold token may continue it). */
  readonly lastHole: HoleKind | null;
}

/** Outcome of a hole: the new state and the kind of content the hole takes. */
export interface HoleStep {
  state: FrameGrammarState;
  kind: HoleKind;
}

/** Fields whose list length a rule in `#slot` reads, by class. */
const LENGTHS_READ_BY_RULES: Readonly<Record<string, readonly number[]>> = {
  Compare: [1],
  Dict: [0],
  MatchMapping: [0],
  MatchClass: [2],
  arguments: [0, 1, 3],
};

const LITERAL_KINDS: Readonly<Record<string, 'int' | 'str'>> = { $int: 'int', $str: 'str' };
/** Minimum list length by kind suffix; `{n}` spells it out. */
const MINIMUM_BY_SUFFIX: Readonly<Record<string, number>> = { '*': 0, '+': 1 };

const isNode = (item: Item): item is NodeItem => item.variant !== undefined;
const isList = (item: Item): item is ListItem => item.slot !== undefined;

/** The layout-frame grammar of one tokenizer mode. */
export class FrameGrammar {
  readonly #kinds = new Map<string, FieldKind>();
  readonly #variants = new Map<string, NodeVariant>();
  readonly #categories: ReadonlyMap<string, readonly string[]>;
  readonly #fieldSpellings: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly #module: FieldKind;
  readonly #noneOnly: FieldKind;
  readonly #identifier: FieldKind;
  readonly #relativeLevel: FieldKind;
  readonly initial: FrameGrammarState;

  constructor(readonly mode: TokenizerMode = 'lossless') {
    const tables = schemaTables(mode);
    this.#categories = tables.categories;
    this.#fieldSpellings = tables.fields;
    this.#module = this.kind('mod');
    this.#noneOnly = this.kind('none');
    this.#identifier = this.kind('#identifier');
    this.#relativeLevel = this.kind('#relative-level');
    for (const variant of Object.keys(tables.fields)) this.#variant(variant);
    this.#computeCosts();
    this.initial = { stack: { item: { phase: Phase.Root }, below: null }, lastHole: null };
  }

  /** Returns the field kind of a spelling such as `stmt+`, `expr?` or `#identifier`. */
  kind(spelling: string): FieldKind {
    const known = this.#kinds.get(spelling);
    if (known !== undefined) return known;
    const listMatch = /^(.*?)(\*|\+|\{(\d+)\})$/.exec(spelling);
    let kind: FieldKind;
    if (listMatch !== null) {
      const min = MINIMUM_BY_SUFFIX[listMatch[2]] ?? Number(listMatch[3]);
      kind = { name: spelling, variants: new Map(), hole: null, allowsNone: false, literal: null, list: { element: this.kind(listMatch[1]), min }, cost: Infinity };
      this.#kinds.set(spelling, kind);
      return kind;
    }
    const optional = spelling.endsWith('?');
    const base = optional ? spelling.slice(0, -1) : spelling;
    const variants = new Map<string, NodeVariant>();
    kind = {
      name: spelling,
      variants,
      hole: base.startsWith('#') ? (base.slice(1) as HoleKind) : null,
      allowsNone: optional || base === 'none',
      literal: LITERAL_KINDS[base] ?? null,
      list: null,
      cost: Infinity,
    };
    // Registered before the variants are built, because categories are recursive.
    this.#kinds.set(spelling, kind);
    if (kind.hole === null && kind.literal === null && base !== 'none') {
      const entries = this.#categories.get(base);
      if (entries === undefined) throw new Error(`frame grammar: unknown field kind ${spelling}`);
      for (const entry of entries) {
        if (entry.startsWith('#')) {
          (kind as { hole: HoleKind | null }).hole = entry.slice(1) as HoleKind;
          continue;
        }
        const variant = this.#variant(entry);
        // A later, narrower entry (Tuple@slice after Tuple) replaces the general one.
        variants.set(variant.className, variant);
      }
    }
    return kind;
  }

  #variant(name: string): NodeVariant {
    const known = this.#variants.get(name);
    if (known !== undefined) return known;
    const className = classOfVariant(name);
    const spellings = this.#fieldSpellings[name];
    const order = NODE_FIELDS[className];
    if (spellings === undefined || order === undefined) throw new Error(`frame grammar: no schema for ${name}`);
    const fields: { name: string; kind: FieldKind }[] = [];
    const variant: NodeVariant = { name, className, fields };
    this.#variants.set(name, variant);
    for (const field of order) {
      const spelling = spellings[field];
      if (spelling === undefined) throw new Error(`frame grammar: ${name}.${field} has no kind`);
      fields.push({ name: field, kind: this.kind(spelling) });
    }
    if (Object.keys(spellings).length !== order.length) throw new Error(`frame grammar: ${name} lists fields that ${className} does not have`);
    return variant;
  }

  /** Fixpoint of the fewest holes per kind; recursion (an expression inside an expression) needs repeated passes. */
  #computeCosts(): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const kind of this.#kinds.values()) {
        const cost = this.#kindCost(kind);
        if (cost < kind.cost) {
          kind.cost = cost;
          changed = true;
        }
      }
    }
  }

  #kindCost(kind: FieldKind): number {
    if (kind.list !== null) return kind.list.min === 0 ? 0 : kind.list.min * kind.list.element.cost;
    if (kind.allowsNone || kind.literal !== null) return 0;
    let cost = kind.hole !== null ? 1 : Infinity;
    for (const variant of kind.variants.values()) cost = Math.min(cost, this.#remainingCost(variant, 0, 0, []));
    return cost;
  }

  /**
   * Minimum number of holes that fields `from`… of a node still need, picking the
   * cheapest choice for each (None, the shortest list, the cheapest class).
   */
  #remainingCost(variant: NodeVariant, from: number, filled: number, lengths: readonly number[]): number {
    let cost = 0;
    let bits = filled;
    const sizes = [...lengths];
    for (let field = from; field < variant.fields.length; field++) {
      const slot = this.#slot(variant, field, bits, sizes);
      const kind = slot.kind;
      if (kind.list !== null) {
        const length = slot.min;
        if (length > 0) cost += length * kind.list.element.cost;
        sizes[field] = length;
        if (length > 0) bits |= 1 << field;
      } else if (!kind.allowsNone) {
        cost += kind.cost;
        bits |= 1 << field;
      }
    }
    return cost;
  }

  /**
   * The kind and length limits of a field, given what the node's earlier
   * fields hold. These are the rules Python's parser enforces across fields.
   */
  #slot(variant: NodeVariant, field: number, filled: number, lengths: readonly number[]): Slot {
    const kind = variant.fields[field].kind;
    const has = (index: number): boolean => (filled & (1 << index)) !== 0;
    const length = (index: number): number => lengths[index] ?? 0;
    const min = kind.list?.min ?? 0;
    const exact = (count: number): Slot => ({ kind, min: Math.max(min, count), max: count });
    switch (variant.className) {
      case 'Try':
        // `else` needs an `except` clause, and a `try` needs `except` or `finally`.
        if (field === 2 && !has(1)) return { kind, min: 0, max: 0 };
        if (field === 3 && !has(1)) return { kind, min: 1, max: Infinity };
        break;
      case 'ExceptHandler':
        // `except as e` is not Python.
        if (field === 1 && !has(0)) return { kind: this.#noneOnly, min: 0, max: 0 };
        break;
      case 'Raise':
        // `raise from x` is not Python.
        if (field === 1 && !has(0)) return { kind: this.#noneOnly, min: 0, max: 0 };
        break;
      case 'MatchAs':
        // `case <pattern> as` needs a name.
        if (field === 1 && has(0)) return { kind: this.#identifier, min: 0, max: 0 };
        break;
      case 'ImportFrom':
        // `from import x` is not Python, so a missing module needs a relative level.
        if (field === 2 && !has(0) && kind.hole !== null) return { kind: this.#relativeLevel, min: 0, max: 0 };
        break;
      case 'Compare':
        if (field === 2) return exact(length(1));
        break;
      case 'Dict':
      case 'MatchMapping':
        if (field === 1) return exact(length(0));
        break;
      case 'MatchClass':
        if (field === 3) return exact(length(2));
        break;
      case 'arguments':
        if (field === 4) return exact(length(3));
        // Defaults belong to the last positional parameters, so there are at most as many.
        // Compat mode empties posonlyargs but keeps their defaults, so it is exempt.
        if (field === 6 && this.mode === 'lossless') return { kind, min: 0, max: length(0) + length(1) };
        break;
    }
    return { kind, min, max: Infinity };
  }

  /** Reads one frame fragment (already split into lexemes); returns null when the prefix becomes invalid. */
  feed(state: FrameGrammarState, lexemes: readonly Lexeme[]): FrameGrammarState | null {
    let stack: StackFrame | null = state.stack;
    for (const lexeme of lexemes) {
      stack = this.#step(stack, lexeme);
      if (stack === null) return null;
    }
    return { stack, lastHole: lexemes.length === 0 ? state.lastHole : null };
  }

  /** Reads a hole (one leaf of S4); returns null when no leaf may stand here. */
  hole(state: FrameGrammarState): HoleStep | null {
    const top = state.stack.item;
    const slot = this.#expectedValue(top);
    if (slot === null || slot.kind.hole === null) return null;
    const stack = this.#completeValue(state.stack, top, true, 0);
    return { state: { stack, lastHole: slot.kind.hole }, kind: slot.kind.hole };
  }

  /** Checks that the text read so far is a whole dump. */
  isComplete(state: FrameGrammarState): boolean {
    return state.stack.item.phase === Phase.Done;
  }

  /**
   * Minimum number of holes in any completion of the state. Each hole costs one more
   * S3 token, so a frame needs at least this many tokens plus the last one.
   */
  minHoles(state: FrameGrammarState): number {
    let cost = 0;
    // Final length of the list just below (the item above a node in Child phase), for length rules.
    let childLength = 0;
    let childFilled = true;
    for (let frame: StackFrame | null = state.stack; frame !== null; frame = frame.below) {
      const item = frame.item;
      if (isNode(item)) {
        const { variant, field } = item;
        if (item.phase === Phase.Child) {
          const lengths = [...item.lengths];
          lengths[field] = childLength;
          const filled = childFilled ? item.filled | (1 << field) : item.filled;
          cost += this.#remainingCost(variant, field + 1, filled, lengths);
        } else {
          cost += this.#remainingCost(variant, field, item.filled, item.lengths);
        }
        childLength = 0;
        childFilled = true;
      } else if (isList(item)) {
        const element = item.slot.kind.list!.element;
        const active = item.phase === Phase.Child ? 1 : 0;
        const required = item.phase === Phase.ListComma ? 1 : 0;
        const more = Math.max(item.slot.min - item.count - active, required);
        if (more > 0) cost += more * element.cost;
        childLength = item.count + active + more;
        childFilled = childLength > 0;
      } else if (item.phase === Phase.Root) {
        cost += this.#module.cost;
      }
    }
    return cost;
  }

  /**
   * A key that is equal for states that accept the same continuations. List
   * lengths enter it exactly only where a rule reads them or the list has a
   * maximum. Elsewhere the key only records whether a list is shorter than its
   * minimum, so states that differ only in the length of a statement body
   * share one key and one cache entry.
   */
  stateKey(state: FrameGrammarState): string {
    const parts: string[] = [];
    for (let frame: StackFrame | null = state.stack; frame !== null; frame = frame.below) {
      const item = frame.item;
      if (isNode(item)) {
        const read = LENGTHS_READ_BY_RULES[item.variant.className];
        const lengths = read === undefined ? '' : read.map((index) => item.lengths[index] ?? 0).join('.');
        parts.push(`${item.variant.name}:${item.field}:${item.phase}:${item.filled}:${lengths}`);
      } else if (isList(item)) {
        const parent = frame.below?.item;
        const read = parent !== undefined && isNode(parent) && (LENGTHS_READ_BY_RULES[parent.variant.className] ?? []).includes(parent.field);
        const count = read || Number.isFinite(item.slot.max) ? item.count : Math.min(item.count, Math.max(item.slot.min, 1));
        parts.push(`[${item.slot.kind.name}:${item.slot.min}:${item.slot.max}:${count}:${item.phase}`);
      } else {
        parts.push(`^${item.phase}`);
      }
    }
    return `${state.lastHole ?? ''}|${parts.join('/')}`;
  }

  /** The slot a value may start in when `item` is on top, or null when it expects no value. */
  #expectedValue(item: Item): Slot | null {
    if (isNode(item)) {
      if (item.phase !== Phase.Value) return null;
      return this.#slot(item.variant, item.field, item.filled, item.lengths);
    }
    if (isList(item)) {
      if (item.phase !== Phase.ListStart && item.phase !== Phase.ListComma) return null;
      if (item.count >= item.slot.max) return null;
      return { kind: item.slot.kind.list!.element, min: 0, max: Infinity };
    }
    return item.phase === Phase.Root ? { kind: this.#module, min: 0, max: Infinity } : null;
  }

  #step(stack: StackFrame, lexeme: Lexeme): StackFrame | null {
    const item = stack.item;
    const below = stack.below;
    if (isNode(item)) {
      const fields = item.variant.fields;
      switch (item.phase) {
        case Phase.FieldName:
          if (item.field === fields.length) return lexeme.type === ')' ? this.#closeChild(below, true, 0) : null;
          if (lexeme.type !== 'field' || lexeme.name !== fields[item.field].name) return null;
          return { item: { ...item, phase: Phase.Value }, below };
        case Phase.Separator:
          if (item.field === fields.length) return lexeme.type === ')' ? this.#closeChild(below, true, 0) : null;
          return lexeme.type === ',' ? { item: { ...item, phase: Phase.FieldName }, below } : null;
        case Phase.Value:
          return this.#startValue(stack, item, lexeme);
        default:
          return null;
      }
    }
    if (isList(item)) {
      if (lexeme.type === ']' && item.phase !== Phase.ListComma && item.count >= item.slot.min) {
        return this.#closeChild(below, item.count > 0, item.count);
      }
      if (item.phase === Phase.ListElement) {
        return lexeme.type === ',' && item.count < item.slot.max ? { item: { ...item, phase: Phase.ListComma }, below } : null;
      }
      return this.#startValue(stack, item, lexeme);
    }
    return item.phase === Phase.Root ? this.#startValue(stack, item, lexeme) : null;
  }

  /** Starts a value in the slot that the top item expects: a node, a list, None or a frame literal. */
  #startValue(stack: StackFrame, item: Item, lexeme: Lexeme): StackFrame | null {
    const slot = this.#expectedValue(item);
    if (slot === null) return null;
    const kind = slot.kind;
    switch (lexeme.type) {
      case 'open': {
        const variant = kind.variants.get(lexeme.name);
        if (variant === undefined) return null;
        const child: NodeItem = { phase: Phase.FieldName, variant, field: 0, filled: 0, lengths: [] };
        return { item: child, below: { item: this.#asParent(item), below: stack.below } };
      }
      case '[': {
        if (kind.list === null) return null;
        const child: ListItem = { phase: Phase.ListStart, slot, count: 0 };
        return { item: child, below: { item: this.#asParent(item), below: stack.below } };
      }
      case 'None':
        return kind.allowsNone ? this.#completeValue(stack, item, false, 0) : null;
      case 'int':
      case 'str':
        return kind.literal === lexeme.type ? this.#completeValue(stack, item, true, 0) : null;
      default:
        return null;
    }
  }

  #asParent(item: Item): Item {
    if (isList(item)) return { ...item, phase: Phase.Child };
    if (isNode(item)) return { ...item, phase: Phase.Child };
    return { phase: Phase.Child };
  }

  /** Pops a finished node or list and records its value in the item below it. */
  #closeChild(below: StackFrame | null, filled: boolean, length: number): StackFrame | null {
    if (below === null) return null;
    return this.#completeValue(below, below.item, filled, length);
  }

  /** Records a finished value (a hole, None, a literal or a closed child) in the item that expected it. */
  #completeValue(stack: StackFrame, item: Item, filled: boolean, length: number): StackFrame {
    if (isNode(item)) {
      const lengths = [...item.lengths];
      lengths[item.field] = length;
      const next: NodeItem = {
        phase: Phase.Separator,
        variant: item.variant,
        field: item.field + 1,
        filled: filled ? item.filled | (1 << item.field) : item.filled,
        lengths,
      };
      return { item: next, below: stack.below };
    }
    if (isList(item)) return { item: { ...item, phase: Phase.ListElement, count: item.count + 1 }, below: stack.below };
    return { item: { phase: Phase.Done }, below: stack.below };
  }
}
