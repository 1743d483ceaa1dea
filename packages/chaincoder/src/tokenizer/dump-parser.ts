/**
 * Reads a constructor dump (the concatenation of layout-frame tokens and
 * content literals) back into a tree. The grammar is the dump's own:
 * `Class(field=value,…)`, `[value,…]`, Python literals and `None`.
 */
import { NODE_FIELDS, type AstNode, type AstValue, type PyConstant } from '../ast/nodes.js';

export class DumpSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

const HEX_ESCAPE_WIDTH: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

// Sticky patterns match at a given offset without copying the rest of the text, which keeps parsing linear.
const NUMBER_RE = /-?(\d+\.\d*|\d*\.\d+|\d+)(e[+-]?\d+)?j?/y;
const WORD_RE = /[A-Za-z_][A-Za-z_0-9]*/y;

function matchAt(pattern: RegExp, text: string, offset: number): RegExpExecArray | null {
  pattern.lastIndex = offset;
  return pattern.exec(text);
}

type Literal = { kind: 'constant'; value: PyConstant } | { kind: 'int'; value: bigint };

/** Parses a dump string. Throws DumpSyntaxError on malformed text or unknown classes and fields. */
export function parseDump(text: string): AstNode {
  let pos = 0;

  const fail = (message: string): never => {
    throw new DumpSyntaxError(message, pos);
  };

  const expect = (ch: string): void => {
    if (text[pos] !== ch) fail(`expected '${ch}' but found ${text[pos] === undefined ? 'the end' : `'${text[pos]}'`}`);
    pos += 1;
  };

  const quoted = (): string => {
    const quote = text[pos];
    pos += 1;
    let out = '';
    while (pos < text.length && text[pos] !== quote) {
      const ch = text[pos];
      if (ch !== '\\') {
        out += ch;
        pos += 1;
        continue;
      }
      const next = text[pos + 1];
      const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t' };
      if (next in simple) {
        out += simple[next];
        pos += 2;
        continue;
      }
      const width = HEX_ESCAPE_WIDTH[next] ?? 0;
      const hex = text.slice(pos + 2, pos + 2 + width);
      if (width === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) fail('invalid escape in string literal');
      out += String.fromCodePoint(parseInt(hex, 16));
      pos += 2 + width;
    }
    expect(quote);
    return out;
  };

  const literal = (): Literal | string | null => {
    const ch = text[pos];
    if (ch === "'" || ch === '"') return { kind: 'constant', value: { py: 'str', value: quoted() } };
    if (ch === 'b' && (text[pos + 1] === "'" || text[pos + 1] === '"')) {
      pos += 1;
      const raw = quoted();
      const bytes: number[] = [];
      for (let i = 0; i < raw.length; i++) bytes.push(raw.charCodeAt(i));
      return { kind: 'constant', value: { py: 'bytes', value: bytes } };
    }
    const number = matchAt(NUMBER_RE, text, pos);
    if (number !== null && number[0] !== '-') {
      pos += number[0].length;
      const token = number[0];
      if (token.endsWith('j')) return { kind: 'constant', value: { py: 'complex', value: Number(token.slice(0, -1)) } };
      if (/^-?\d+$/.test(token)) return { kind: 'int', value: BigInt(token) };
      return { kind: 'constant', value: { py: 'float', value: Number(token) } };
    }
    return fail('expected a value');
  };

  const value = (type: string, field: string): AstValue => {
    const ch = text[pos];
    if (ch === '[') {
      pos += 1;
      const items: AstValue[] = [];
      while (text[pos] !== ']') {
        if (items.length > 0) expect(',');
        items.push(value(type, field));
      }
      pos += 1;
      return items;
    }
    const word = matchAt(WORD_RE, text, pos)?.[0];
    if (word !== undefined && text[pos + word.length] === '(') return node();
    // MatchSingleton stores the constant None, True or False directly, like Constant.value.
    const isConstantValue = (type === 'Constant' || type === 'MatchSingleton') && field === 'value';
    if (word === 'None' || word === 'True' || word === 'False' || word === 'Ellipsis') {
      pos += word.length;
      if (word === 'None') return isConstantValue ? { py: 'None' } : null;
      if (word === 'Ellipsis') return { py: 'Ellipsis' };
      return { py: 'bool', value: word === 'True' };
    }
    const parsed = literal();
    if (parsed === null || typeof parsed === 'string') return parsed;
    if (isConstantValue) return parsed.kind === 'int' ? { py: 'int', value: parsed.value } : parsed.value;
    if (parsed.kind === 'int') return Number(parsed.value);
    if (parsed.value.py === 'str') return parsed.value.value;
    return fail(`a ${parsed.value.py} literal is only valid as Constant.value`);
  };

  const node = (): AstNode => {
    const start = pos;
    const name = matchAt(WORD_RE, text, pos)?.[0];
    if (name === undefined) return fail('expected a node class name');
    const fields = NODE_FIELDS[name];
    if (fields === undefined) {
      pos = start;
      return fail(`unknown node class ${name}`);
    }
    pos += name.length;
    expect('(');
    const result: AstNode = { _type: name };
    fields.forEach((field, i) => {
      if (i > 0) expect(',');
      if (!text.startsWith(`${field}=`, pos)) fail(`expected field ${field} of ${name}`);
      pos += field.length + 1;
      result[field] = value(name, field);
    });
    expect(')');
    return result;
  };

  const root = node();
  if (pos !== text.length) fail('unexpected text after the end of the tree');
  if (root._type !== 'Module') throw new DumpSyntaxError(`the tree must start with Module, not ${root._type}`, 0);
  return root;
}
