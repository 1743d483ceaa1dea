/**
 * Grammar-guided choices for the S3 and S4 segments. S3 tokens are allowed
 * only when the frame grammar accepts them and a complete frame still fits in
 * the token budget, and S3 ends only with a complete dump. S4 token j must
 * fit the hole that S3 token j leaves (an identifier, a constant piece, an
 * operator of the right category, …).
 *
 * Allowed S3 sets depend only on the grammar state, so they are cached per
 * state, and the budget test then costs one comparison per allowed token.
 */
import { getLogger } from '@sculpt/core';
import { FrameGrammar, lexFragment, type FrameGrammarState, type Lexeme } from '../tokenizer/frame-grammar.js';
import { MULTI_PIECE_HOLES, type HoleKind } from '../tokenizer/frame-grammar-schema.js';
import type { TokenizerMode } from '../tokenizer/modes.js';
import { ContentClasses } from './content-classes.js';

const log = getLogger('chaincoder:frame-constraint');

/** An S3 token that the grammar accepts in some state, with the state after it. */
interface Successor {
  id: number;
  state: FrameGrammarState;
  /** The hole the token leaves, or null when its fragment completes the dump. */
  hole: HoleKind | null;
  /** Minimum number of S3 tokens after this one (0 when the dump is complete). */
  further: number;
}

/** The hole that S3 position j leaves for S4 position j. */
export interface HoleRecord {
  kind: HoleKind;
  /** Index of this piece within its value and the value's piece count. */
  piece: number;
  pieces: number;
}

/**
 * States the completion search expands per candidate before it reports no
 * completion. States that fail at this limit are nearly always dead ends of
 * the vocabulary, and rejecting them early keeps a decoding step cheap.
 */
const MAX_SEARCH_EXPANSIONS = 200;
/** Expansion limit of the one search for the shortest frame, when the decoder is built. */
const MAX_FIRST_SEARCH_EXPANSIONS = 20_000;

/** Syntax tokens stored by their lexemes, so tokens that share a prefix share its grammar steps. */
interface TrieNode {
  readonly children: Map<string, { lexeme: Lexeme; node: TrieNode }>;
  /** Tokens whose fragment ends here. */
  readonly ids: number[];
}

interface SearchEntry {
  state: FrameGrammarState;
  key: string;
  /** S3 tokens from the search's start. */
  cost: number;
  /** Search priority: cost plus a guess of the tokens still needed (exact for a goal entry). */
  estimate: number;
  parent: SearchEntry | null;
  /** Tokens that finish the frame from this entry's state, when already known (a goal entry). */
  finish: number | null;
}

export class FrameConstraint {
  readonly grammar: FrameGrammar;
  readonly contents: ContentClasses;
  readonly #trie: TrieNode = { children: new Map(), ids: [] };
  readonly #successors = new Map<string, Successor[]>();
  /** Length of a found completion per state key. */
  readonly #completions = new Map<string, number>();
  /** Largest limit within which the search found no completion, per state key. */
  readonly #failedWithin = new Map<string, number>();
  /** S3 tokens of the shortest frame the search found for these syntax tokens (Infinity when none). */
  readonly minFrameLength: number;

  /**
   * `fragments` maps syntax ids to their dump text (the continuation token
   * excluded), `contentTexts` maps content ids to their text.
   */
  constructor(
    fragments: ReadonlyMap<number, string>,
    contentTexts: ReadonlyMap<number, string>,
    readonly continuation: number | undefined,
    mode: TokenizerMode,
  ) {
    this.grammar = new FrameGrammar(mode);
    let usable = 0;
    for (const [id, fragment] of fragments) {
      if (id === continuation) continue;
      const lexemes = lexFragment(fragment);
      if (lexemes === null || lexemes.length === 0) continue;
      this.#insert(id, lexemes);
      usable++;
    }
    this.contents = new ContentClasses(contentTexts);
    this.minFrameLength = this.completionLength(this.grammar.initial, Infinity, MAX_FIRST_SEARCH_EXPANSIONS);
    log.debug(() => `${usable} of ${fragments.size} syntax tokens are dump fragments; shortest frame ${this.minFrameLength} tokens`);
  }

  #insert(id: number, lexemes: readonly Lexeme[]): void {
    let node = this.#trie;
    for (const lexeme of lexemes) {
      const key = 'name' in lexeme ? `${lexeme.type}:${lexeme.name}` : lexeme.type;
      let child = node.children.get(key);
      if (child === undefined) {
        child = { lexeme, node: { children: new Map(), ids: [] } };
        node.children.set(key, child);
      }
      node = child.node;
    }
    node.ids.push(id);
  }

  /** Returns the S3 tokens the grammar accepts in a state, with their successor states. */
  successors(state: FrameGrammarState): readonly Successor[] {
    const key = this.grammar.stateKey(state);
    const cached = this.#successors.get(key);
    if (cached !== undefined) return cached;
    const found: Successor[] = [];
    const visit = (node: TrieNode, current: FrameGrammarState): void => {
      for (const id of node.ids) {
        if (this.grammar.isComplete(current)) {
          found.push({ id, state: current, hole: null, further: 0 });
          continue;
        }
        const hole = this.grammar.hole(current);
        if (hole !== null) found.push({ id, state: hole.state, hole: hole.kind, further: this.grammar.minHoles(hole.state) + 1 });
      }
      for (const { lexeme, node: child } of node.children.values()) {
        const next = this.grammar.feed(current, [lexeme]);
        if (next !== null) visit(child, next);
      }
    };
    visit(this.#trie, { stack: state.stack, lastHole: null });
    this.#successors.set(key, found);
    return found;
  }

  /** Checks that the on-hold token may follow, because the last hole is a constant that may take another piece. */
  allowsContinuation(state: FrameGrammarState): boolean {
    return this.continuation !== undefined && state.lastHole !== null && MULTI_PIECE_HOLES.has(state.lastHole);
  }

  /**
   * Length of a known completion of the frame from a state, in S3 tokens
   * (after a hole: the tokens still to come, the last one included), or
   * Infinity when the search finds none within `limit` tokens.
   *
   * The search is best-first. It orders states by tokens so far plus the
   * grammar's hole bound plus half the stack depth, which steers it towards
   * closing tokens. It prunes states whose admissible bound (tokens so far
   * plus holes still needed) exceeds `limit`. A found length is the
   * length of a real path, so it is an upper bound of the shortest one. Every
   * state on the path is remembered with the rest of the path's length, so a
   * decoder that admits only tokens whose remembered length fits its budget
   * always keeps one admissible token: the next one on the path.
   */
  completionLength(state: FrameGrammarState, limit = Infinity, maxExpansions = MAX_SEARCH_EXPANSIONS): number {
    const startKey = this.grammar.stateKey(state);
    const known = this.#completions.get(startKey);
    if (known !== undefined) return known;
    if ((this.#failedWithin.get(startKey) ?? -1) >= limit) return Infinity;
    const queue = new MinHeap<SearchEntry>((a, b) => a.estimate - b.estimate || b.cost - a.cost);
    const best = new Map<string, number>();
    const guide = (next: FrameGrammarState, lowerBound: number): number => lowerBound + stackDepth(next) / 2;
    queue.push({ state, key: startKey, cost: 0, estimate: guide(state, this.grammar.minHoles(state) + 1), parent: null, finish: null });
    best.set(startKey, 0);

    for (let expansions = 0; expansions < maxExpansions && queue.size > 0; expansions++) {
      const entry = queue.pop()!;
      if (entry.finish !== null) return this.#remember(entry, entry.cost + entry.finish);
      if ((best.get(entry.key) ?? Infinity) < entry.cost) continue;
      const cost = entry.cost + 1;
      for (const successor of this.successors(entry.state)) {
        if (successor.hole === null) {
          queue.push({ state: successor.state, key: '', cost, estimate: cost, parent: entry, finish: 0 });
          continue;
        }
        if (cost + successor.further > limit) continue;
        const key = this.grammar.stateKey(successor.state);
        const length = this.#completions.get(key);
        if (length !== undefined) {
          if (cost + length <= limit) queue.push({ state: successor.state, key, cost, estimate: cost + length, parent: entry, finish: length });
          continue;
        }
        if ((best.get(key) ?? Infinity) <= cost) continue;
        best.set(key, cost);
        queue.push({ state: successor.state, key, cost, estimate: cost + guide(successor.state, successor.further), parent: entry, finish: null });
      }
    }

    // NOTE: the search also gives up at its expansion limit, so a completion within `limit` may exist all the same.
    this.#failedWithin.set(startKey, Math.max(limit, this.#failedWithin.get(startKey) ?? -1));
    return Infinity;
  }

  /** Remembers, for every state on a found path, the length of the rest of the path; returns the start's. */
  #remember(goal: SearchEntry, total: number): number {
    for (let entry: SearchEntry | null = goal.key === '' ? goal.parent : goal; entry !== null; entry = entry.parent) {
      if (!this.#completions.has(entry.key)) this.#completions.set(entry.key, total - entry.cost);
    }
    return total;
  }

  /**
   * Content tokens for S4 position j: the hole's kind, restricted to the
   * co-occurrence set when that leaves any token.
   */
  contentFor(hole: HoleRecord, pieceState: number, seen: ReadonlySet<number> | undefined): ReadonlySet<number> {
    const allowed = this.contents.piece(hole.kind, hole.piece, hole.pieces, pieceState);
    if (seen === undefined) return allowed;
    const both = new Set<number>();
    for (const id of seen) if (allowed.has(id)) both.add(id);
    return both.size > 0 ? both : allowed;
  }
}

/** A binary min-heap ordered by `compare`. */
class MinHeap<T> {
  readonly #items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.compare(items[index], items[parent]) >= 0) break;
      [items[index], items[parent]] = [items[parent], items[index]];
      index = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < items.length && this.compare(items[left], items[smallest]) < 0) smallest = left;
      if (right < items.length && this.compare(items[right], items[smallest]) < 0) smallest = right;
      if (smallest === index) break;
      [items[index], items[smallest]] = [items[smallest], items[index]];
      index = smallest;
    }
    return top;
  }
}

function stackDepth(state: FrameGrammarState): number {
  let depth = 0;
  for (let frame: FrameGrammarState['stack'] | null = state.stack; frame !== null; frame = frame.below) depth++;
  return depth;
}
