/**
 * Python literal semantics in TypeScript: decoding string, bytes and number
 * literals as CPython's tokenizer does, and producing the text of Python's
 * `repr()` for str, bytes, float and complex values.
 */

/** Raised for a literal that CPython would reject, or one this decoder cannot evaluate. */
export class LiteralError extends Error {}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Hex digits after `\x`, `\u` or `\U`; bytes literals have only `\x`. Zero for any other escape letter. */
function escapeWidth(letter: string, isBytes: boolean): number {
  if (letter === 'x') return 2;
  if (isBytes) return 0;
  if (letter === 'u') return 4;
  return letter === 'U' ? 8 : 0;
}

const isOctal = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '7';
const HEX_RE = /^[0-9a-fA-F]+$/;

/**
 * Decodes the escape sequences of a non-raw string or bytes literal body.
 * For bytes the result has one char per byte (code points 0-255).
 * Unknown escapes keep their backslash, as CPython 3.11 does (with a warning).
 */
export function decodeEscapes(body: string, isBytes: boolean): string {
  let out = '';
  let i = 0;
  while (i < body.length) {
    const ch = body[i];
    if (ch !== '\\') {
      out += ch;
      i += 1;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) throw new LiteralError('string literal ends with a lone backslash');
    if (next in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[next];
      i += 2;
      continue;
    }
    if (isOctal(next)) {
      let digits = next;
      let j = i + 2;
      while (digits.length < 3 && isOctal(body[j])) digits += body[j++];
      const code = parseInt(digits, 8);
      // CPython keeps octal escapes above 0o377 in str literals but truncates them in bytes.
      out += String.fromCodePoint(isBytes ? code & 0xff : code);
      i = j;
      continue;
    }
    const width = escapeWidth(next, isBytes);
    if (width > 0) {
      const hex = body.slice(i + 2, i + 2 + width);
      if (hex.length !== width || !HEX_RE.test(hex)) {
        throw new LiteralError(`truncated \\${next} escape in string literal`);
      }
      const code = parseInt(hex, 16);
      // NOTE: two escaped lone surrogates ('\ud800\udc00') become one character here, because a JS string cannot keep them apart; CPython keeps two.
      if (code > 0x10ffff) throw new LiteralError(`escape \\${next}${hex} is outside the Unicode range`);
      out += String.fromCodePoint(code);
      i += 2 + width;
      continue;
    }
    if (!isBytes && next === 'N') {
      // TODO: \N{NAME} needs the Unicode character name table, which Node does not ship.
      throw new LiteralError('\\N{...} escapes are not supported (no Unicode name table)');
    }
    out += '\\' + next;
    i += 2;
  }
  return out;
}

/** Parses an int literal (any base, underscores allowed) to its exact value. */
export function parseIntLiteral(text: string): bigint {
  const clean = text.replace(/_/g, '');
  const lower = clean.toLowerCase();
  if (/^0[xob]/.test(lower)) return BigInt(lower);
  if (!/^\d+$/.test(clean)) throw new LiteralError(`invalid int literal ${JSON.stringify(text)}`);
  if (clean.length > 1 && clean[0] === '0' && /[1-9]/.test(clean)) {
    throw new LiteralError(`leading zeros in decimal int literal ${JSON.stringify(text)} are not allowed in Python 3`);
  }
  return BigInt(clean);
}

/** Parses a float literal (without the imaginary suffix); JS number parsing rounds correctly like CPython. */
export function parseFloatLiteral(text: string): number {
  const clean = text.replace(/_/g, '');
  if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(clean)) {
    throw new LiteralError(`invalid float literal ${JSON.stringify(text)}`);
  }
  return Number(clean);
}

/**
 * Formats a float like Python's `repr(float)`: the shortest digits that
 * round-trip, fixed notation for decimal exponents in [-4, 16), otherwise
 * `d.ddde+XX` with at least two exponent digits. `Number#toString` uses
 * other thresholds, which is why it is not used directly.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(expText);
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    const fracPart = digits.slice(exponent + 1);
    return `${sign}${intPart}.${fracPart === '' ? '0' : fracPart}`;
  }
  const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
  const expSign = exponent < 0 ? '-' : '+';
  return `${sign}${digits[0]}${frac}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** Formats an imaginary number like Python's `repr(complex(0, imag))`, e.g. `2j`, `1.5j`, `1e+20j`. */
export function pyComplexRepr(imag: number): string {
  const text = pyFloatRepr(imag);
  return `${text.endsWith('.0') ? text.slice(0, -2) : text}j`;
}

// Python's str.isprintable() is false for these Unicode general categories (space excepted).
const NON_PRINTABLE_RE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function pickQuote(text: string): string {
  return text.includes("'") && !text.includes('"') ? '"' : "'";
}

/** Formats a str like Python's `repr(str)`, including its choice of quote. */
export function pyStrRepr(text: string): string {
  const quote = pickQuote(text);
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (ch !== ' ' && NON_PRINTABLE_RE.test(ch)) {
      if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
      else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
      else out += `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

/** Formats bytes like Python's `repr(bytes)`. */
export function pyBytesRepr(bytes: readonly number[]): string {
  let text = '';
  for (const code of bytes) text += String.fromCharCode(code);
  const quote = pickQuote(text);
  let out = 'b' + quote;
  for (const code of bytes) {
    const ch = String.fromCharCode(code);
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code >= 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}
