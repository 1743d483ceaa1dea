/**
 * Bracket balance of the S3 layout frame. Each syntax token is a fragment of
 * an AST dump (e.g. `,ctx=Load())],keywords=[`), so its brackets reduce to a
 * list of closings of brackets opened earlier, followed by a list of new
 * openings. A frame is balanced when every closing matches the open bracket
 * on top of the stack and the stack ends empty.
 */

/** Net bracket effect of one fragment: closings in order (top first), then openings in order. */
export interface BracketEffect {
  closes: string;
  opens: string;
}

const CLOSER_OF: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const OPENER_OF: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/**
 * Reduces a fragment to its bracket effect, or returns null when the fragment
 * itself mismatches brackets (`(]`), which no frame can contain. Quoted
 * spans are skipped because brackets inside string literals are text.
 */
export function bracketEffect(fragment: string): BracketEffect | null {
  let closes = '';
  const opens: string[] = [];
  let quote: string | null = null;
  for (let index = 0; index < fragment.length; index++) {
    const char = fragment[index];
    if (quote !== null) {
      if (char === '\\') index++;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      continue;
    }
    if (char in CLOSER_OF) {
      opens.push(char);
      continue;
    }
    const opener = OPENER_OF[char];
    if (opener === undefined) continue;
    if (opens.length > 0) {
      if (opens.pop() !== opener) return null;
    } else {
      closes += opener;
    }
  }
  return { closes, opens: opens.join('') };
}

/** Applies an effect to a stack of open brackets (top at the end); returns null on a mismatch or underflow. */
export function applyEffect(stack: string, effect: BracketEffect): string | null {
  if (effect.closes.length > stack.length) return null;
  for (let index = 0; index < effect.closes.length; index++) {
    if (stack[stack.length - 1 - index] !== effect.closes[index]) return null;
  }
  return stack.slice(0, stack.length - effect.closes.length) + effect.opens;
}

/**
 * Frame bracket tracking over a fixed set of syntax tokens. `closingCost`
 * gives the number of tokens a greedy closer needs to empty a stack. It is an
 * upper bound of the minimum, and a path of that length exists, so a decoder
 * that keeps it within the budget can always finish a balanced frame.
 */
export class FrameBrackets {
  readonly effects = new Map<number, BracketEffect>();
  /** Tokens that only close brackets, longest closing first. */
  readonly #closers: [number, BracketEffect][];
  readonly #costs = new Map<string, number>();
  /** Tokens needed for the shortest balanced frame found from an empty stack (Infinity when none). */
  readonly minFrameLength: number;

  /** `notFirst` is a token that may not start a frame (the on-hold continuation token). */
  constructor(fragments: ReadonlyMap<number, string>, notFirst?: number) {
    for (const [id, fragment] of fragments) {
      const effect = bracketEffect(fragment);
      if (effect !== null) this.effects.set(id, effect);
    }
    this.#closers = [...this.effects].filter(([, effect]) => effect.opens === '' && effect.closes !== '').sort(([, a], [, b]) => b.closes.length - a.closes.length);
    let shortest = Infinity;
    for (const [id, effect] of this.effects) {
      if (id === notFirst) continue;
      const stack = applyEffect('', effect);
      if (stack !== null) shortest = Math.min(shortest, 1 + this.closingCost(stack));
    }
    this.minFrameLength = shortest;
  }

  /** Greedy count of closing tokens that empty `stack`; Infinity when no closer matches its top. */
  closingCost(stack: string): number {
    if (stack === '') return 0;
    const cached = this.#costs.get(stack);
    if (cached !== undefined) return cached;
    let cost = Infinity;
    for (const [, effect] of this.#closers) {
      const rest = applyEffect(stack, effect);
      if (rest === null) continue;
      cost = 1 + this.closingCost(rest);
      break;
    }
    this.#costs.set(stack, cost);
    return cost;
  }

  /** Stack of open brackets after a sequence of syntax tokens, or null when it is already unbalanced. */
  stackAfter(tokens: readonly number[]): string | null {
    let stack = '';
    for (const token of tokens) {
      const effect = this.effects.get(token);
      if (effect === undefined) return null;
      const next = applyEffect(stack, effect);
      if (next === null) return null;
      stack = next;
    }
    return stack;
  }
}
