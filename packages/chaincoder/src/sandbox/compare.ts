/**
 * Output comparison for stdin/stdout tests.
 *
 * The default rule strips trailing whitespace on each line and trailing blank
 * lines, and accepts `\r\n` line ends. The `compat` rule reproduces the
 * ChainCoder reference's lossy check: every whitespace-separated piece that
 * parses as a number is rewritten as Python's `str()` of that int or float
 * (so "1.50" equals "1.5" and "007" equals "7"), and spacing is collapsed.
 */
export type OutputComparison = 'exact-lines' | 'compat';

/** Default normalization: trailing whitespace per line and trailing blank lines removed. */
export function normalizeOutput(text: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.replace(/\s+$/u, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

const INTEGER = /^[+-]?\d+$/u;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/u;

/** Python's repr/str of a finite float: shortest round-trip digits, exponent form outside [1e-4, 1e16). */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const exponential = value.toExponential(); // shortest digits, e.g. "1.5e+0"
  const [mantissa, exponentText] = exponential.split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const exponentSign = exponent < 0 ? '-' : '+';
    return `${sign}${fraction}e${exponentSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const integerDigits = exponent + 1;
  if (digits.length <= integerDigits) return `${sign}${digits}${'0'.repeat(integerDigits - digits.length)}.0`;
  return `${sign}${digits.slice(0, integerDigits)}.${digits.slice(integerDigits)}`;
}

function compatPiece(piece: string): string {
  if (INTEGER.test(piece)) return BigInt(piece).toString();
  if (FLOAT.test(piece)) return pythonFloatRepr(Number(piece));
  return piece;
}

/** Applies the reference's lossy normalization (see the file comment). */
export function compatNormalizeOutput(text: string): string {
  const lines = text
    .trim()
    .split(/\r?\n/)
    .map((line) => line.trim().split(/\s+/u).filter(Boolean).map(compatPiece).join(' '));
  return lines.join('\n');
}

export function outputsMatch(actual: string, expected: string, comparison: OutputComparison = 'exact-lines'): boolean {
  if (comparison === 'compat') return compatNormalizeOutput(actual) === compatNormalizeOutput(expected);
  return normalizeOutput(actual) === normalizeOutput(expected);
}
