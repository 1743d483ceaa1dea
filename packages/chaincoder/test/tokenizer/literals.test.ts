import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeEscapes, parseIntLiteral, pyBytesRepr, pyComplexRepr, pyFloatRepr, pyStrRepr } from '../../src/ast/literals.js';

const FLOATS = [0.1, 1.5, 1e16, 1e15, 123456789012345680, 1e-4, 1e-5, 0.000123, 2.5e-300, 1.7976931348623157e308, 5e-324, 100, 1 / 3, -0, 3e22];
const STRINGS = ["it's", 'say "hi"', 'both \' and "', 'tab\there', 'nul\x00', 'é ü', '\u2028', 'emoji 😀', '\x7f', 'back\\slash'];

function python(expression: string): string[] {
  return JSON.parse(execFileSync('python3', ['-c', `import json; print(json.dumps(${expression}))`]).toString()) as string[];
}

describe('Python literal semantics', () => {
  it('float repr matches CPython', () => {
    const expected = python(`[repr(float(x)) for x in [${FLOATS.map((x) => (Object.is(x, -0) ? '-0.0' : String(x))).join(', ')}]]`);
    expect(FLOATS.map(pyFloatRepr)).toEqual(expected);
  });

  it('complex repr matches CPython', () => {
    expect([2, 1.5, 1e20, 0].map(pyComplexRepr)).toEqual(python('[repr(2j), repr(1.5j), repr(1e20j), repr(0j)]'));
  });

  it('str repr matches CPython', () => {
    expect(STRINGS.map(pyStrRepr)).toEqual(python(`[repr(s) for s in ${JSON.stringify(STRINGS)}]`));
  });

  it('bytes repr matches CPython', () => {
    const bytes = [0, 9, 10, 39, 34, 92, 65, 127, 128, 255];
    expect(pyBytesRepr(bytes)).toBe(python(`repr(bytes(${JSON.stringify(bytes)}))`));
  });

  it('decodes escapes like CPython', () => {
    expect(decodeEscapes('\\n\\t\\x41\\101\\u00e9\\U0001F600\\q\\\n', false)).toBe('\n\tAAé😀\\q');
    expect(decodeEscapes('\\777', true)).toBe('\xff');
    expect(() => decodeEscapes('\\x4', false)).toThrow(/truncated/);
  });

  it('parses ints of every base exactly', () => {
    expect(parseIntLiteral('0x_FF')).toBe(255n);
    expect(parseIntLiteral('0o17')).toBe(15n);
    expect(parseIntLiteral('0b1_01')).toBe(5n);
    expect(parseIntLiteral('123_456_789_012_345_678_901')).toBe(123456789012345678901n);
    expect(parseIntLiteral('000')).toBe(0n);
    expect(() => parseIntLiteral('012')).toThrow(/leading zeros/);
  });
});
