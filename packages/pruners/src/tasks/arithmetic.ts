/**
 * Numeric answer checking for GSM8K, SVAMP and MAWPS. The reference compares
 * `eval(prediction) == eval(label)` in Python; this evaluates the same
 * arithmetic expressions (numbers, + − * / // % **, parentheses, unary signs)
 * without running code, and treats anything else as a wrong answer.
 */

type Token = { kind: 'number'; value: number } | { kind: 'op'; value: string };

function tokenize(text: string): Token[] | null {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|(\*\*|\/\/|[-+*/%()]))/y;
  let position = 0;
  const source = text.trim();
  while (position < source.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(source);
    if (match === null) return null;
    if (match[2] !== undefined) tokens.push({ kind: 'op', value: match[2] });
    else tokens.push({ kind: 'number', value: Number(match[0].trim()) });
    position = pattern.lastIndex;
  }
  return tokens;
}

/** Evaluates an arithmetic expression with Python's precedence; returns null when it is not one. */
export function evaluateArithmetic(text: string): number | null {
  // Thousands separators ("1,000") are dropped; Python would read them as a tuple.
  const parsed = tokenize(text.replace(/(\d),(?=\d{3}\b)/g, '$1'));
  if (parsed === null || parsed.length === 0) return null;
  const tokens: Token[] = parsed;
  let index = 0;

  const peek = (): Token | undefined => tokens[index];
  const isOp = (value: string): boolean => {
    const token = peek();
    return token !== undefined && token.kind === 'op' && token.value === value;
  };

  function expression(): number {
    let value = term();
    while (isOp('+') || isOp('-')) {
      const op = (tokens[index++] as { value: string }).value;
      const right = term();
      value = op === '+' ? value + right : value - right;
    }
    return value;
  }

  function term(): number {
    let value = unary();
    while (isOp('*') || isOp('/') || isOp('//') || isOp('%')) {
      const op = (tokens[index++] as { value: string }).value;
      const right = unary();
      if (op === '*') value *= right;
      else if (right === 0) throw new RangeError('division by zero');
      else if (op === '/') value /= right;
      else if (op === '//') value = Math.floor(value / right);
      else value = value - right * Math.floor(value / right);
    }
    return value;
  }

  function unary(): number {
    if (isOp('-')) {
      index++;
      return -unary();
    }
    if (isOp('+')) {
      index++;
      return unary();
    }
    return power();
  }

  // ** binds tighter than unary minus on its left and is right-associative.
  function power(): number {
    const base = atom();
    if (isOp('**')) {
      index++;
      return Math.pow(base, unary());
    }
    return base;
  }

  function atom(): number {
    const token = tokens[index++];
    if (token === undefined) throw new SyntaxError('unexpected end');
    if (token.kind === 'number') return token.value;
    if (token.value === '(') {
      const value = expression();
      if (!isOp(')')) throw new SyntaxError('missing )');
      index++;
      return value;
    }
    throw new SyntaxError(`unexpected ${token.value}`);
  }

  try {
    const value = expression();
    return index === tokens.length && Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/** The answer part of a generation: text before the first blank line, after the last `####` in it. */
export function extractNumericAnswer(generation: string): string {
  const paragraph = generation.split('\n\n')[0];
  const marker = paragraph.lastIndexOf('####');
  return (marker >= 0 ? paragraph.slice(marker + 4) : paragraph).trim();
}

/**
 * Equality of the two evaluated expressions. Python's `==` on floats is
 * exact; a relative tolerance of 1e-9 only absorbs rounding such as
 * 0.1 + 0.2 versus 0.3, which no answer distinguishes.
 */
export function numericMatch(prediction: string, label: string): boolean {
  const predicted = evaluateArithmetic(prediction);
  const expected = evaluateArithmetic(label);
  if (predicted === null || expected === null) return false;
  return Math.abs(predicted - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}
