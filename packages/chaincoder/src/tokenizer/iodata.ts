/**
 * I/O examples as encoder input. A stdin/stdout pair becomes the object
 * `[x_lines, y_lines]`, each line a list of whitespace-separated pieces read
 * as int, float or str, as the reference's `convert_lines_to_obj` does. The
 * object's `repr` is tokenized like code, without renaming. Samples of one
 * problem are then aligned line by line so that token position t means the
 * same line in every sample.
 */
import { makeNode, str, type AstNode, type PyConstant } from '../ast/nodes.js';
import { buildFrame } from './frame.js';
import { constantTokens } from './content.js';
import { SPECIAL_TOKENS } from './special-tokens.js';
import type { TokenizerMode } from './modes.js';

/** One whitespace-separated piece of an I/O line. */
export type IoValue = { type: 'int'; value: bigint } | { type: 'float'; value: number } | { type: 'str'; value: string };

export interface IoSampleObject {
  input: IoValue[][];
  output: IoValue[][];
}

/** Ints with this many digits or more are read as inf, as CPython refuses to convert them by default. */
const MAX_INT_DIGITS = 4300;

const INT_RE = /^[-+]?\d+(_\d+)*$/;
const FLOAT_RE = /^[-+]?((\d+(_\d+)*)?\.?\d+(_\d+)*\.?|\d+(_\d+)*\.)([eE][-+]?\d+(_\d+)*)?$|^[-+]?(inf|infinity|nan)$/i;

/** Reads a piece as Python's `int()`, then `float()`, would; anything else stays a str. */
export function parseIoPiece(piece: string): IoValue {
  if (INT_RE.test(piece)) {
    const digits = piece.replace(/^[-+]/, '').replace(/_/g, '');
    if (digits.length >= MAX_INT_DIGITS) return { type: 'float', value: piece.startsWith('-') ? -Infinity : Infinity };
    return { type: 'int', value: BigInt(piece.replace(/_/g, '')) };
  }
  if (FLOAT_RE.test(piece)) {
    const lower = piece.toLowerCase().replace(/_/g, '');
    const sign = lower.startsWith('-') ? -1 : 1;
    const body = lower.replace(/^[-+]/, '');
    if (body === 'inf' || body === 'infinity') return { type: 'float', value: sign * Infinity };
    if (body === 'nan') return { type: 'float', value: NaN };
    return { type: 'float', value: Number(lower) };
  }
  return { type: 'str', value: piece };
}

function textToLines(text: string): IoValue[][] {
  const trimmed = text.replace(/\s+$/, '');
  if (trimmed === '') return [];
  return trimmed.split('\n').map((line) => line.split(/\s+/).filter((piece) => piece !== '').map(parseIoPiece));
}

export function ioSampleToObject(stdin: string, stdout: string): IoSampleObject {
  return { input: textToLines(stdin), output: textToLines(stdout) };
}

/**
 * Builds the tree `ast.parse(repr(value))` gives: negative numbers are a unary
 * minus on a constant, and inf/nan (whose repr is not a literal) are names.
 */
function valueNode(value: IoValue): AstNode {
  const load = (): AstNode => makeNode('Load');
  const negate = (operand: AstNode): AstNode => makeNode('UnaryOp', { op: makeNode('USub'), operand });
  if (value.type === 'str') return makeNode('Constant', { value: str(value.value), kind: null });
  if (value.type === 'int') {
    const constant = makeNode('Constant', { value: { py: 'int', value: value.value < 0n ? -value.value : value.value }, kind: null });
    return value.value < 0n ? negate(constant) : constant;
  }
  if (Number.isNaN(value.value)) return makeNode('Name', { id: 'nan', ctx: load() });
  const magnitude = Math.abs(value.value);
  const positive = Number.isFinite(magnitude)
    ? makeNode('Constant', { value: { py: 'float', value: magnitude }, kind: null })
    : makeNode('Name', { id: 'inf', ctx: load() });
  return value.value < 0 || Object.is(value.value, -0) ? negate(positive) : positive;
}

function valueTokenCount(value: IoValue, mode: TokenizerMode): number {
  const node = valueNode(value);
  if (node._type === 'UnaryOp') {
    const operand = node.operand as AstNode;
    return 1 + (operand._type === 'Name' ? 1 : constantTokens(operand.value as PyConstant, mode).length);
  }
  return node._type === 'Name' ? 1 : constantTokens(node.value as PyConstant, mode).length;
}

export interface EncodedIoSample {
  s3: string[];
  s4: string[];
  /** Content-token count of each line, input lines first, then output lines. */
  lineTokenCounts: number[];
  inputLines: number;
  outputLines: number;
}

/** Tokenizes one I/O sample: no renaming, strings and big ints split, final-chasing token last. */
export function encodeIoSample(sample: IoSampleObject, options: { mode?: TokenizerMode } = {}): EncodedIoSample {
  const mode = options.mode ?? 'lossless';
  const list = (elts: AstNode[]): AstNode => makeNode('List', { elts, ctx: makeNode('Load') });
  const lines = (rows: IoValue[][]): AstNode => list(rows.map((row) => list(row.map(valueNode))));
  const tree = makeNode('Module', {
    body: [makeNode('Expr', { value: list([lines(sample.input), lines(sample.output)]) })],
    type_ignores: [],
  });
  const { s3, s4 } = buildFrame(tree, { mode });
  const lineTokenCounts = [...sample.input, ...sample.output].map((row) =>
    row.reduce((sum, value) => sum + valueTokenCount(value, mode), 0),
  );
  return { s3, s4, lineTokenCounts, inputLines: sample.input.length, outputLines: sample.output.length };
}

export interface AlignedIoSamples {
  /** Per sample: frame tokens, all of the same length. */
  syntax: string[][];
  /** Per sample: content tokens, all of the same length. */
  content: string[][];
  /** True when the samples had different line structures and were padded at the end instead. */
  fallback: boolean;
}

/**
 * Aligns the samples of one problem: each line position gets the maximum
 * width over the samples, and every line is right-aligned inside it with
 * I/O pad pairs, so `YES` / `NO` become `Y E S` / `PAD N O`. Samples whose
 * line counts differ are padded at the end (before the final pair) instead.
 */
export function alignIoSamples(samples: readonly EncodedIoSample[]): AlignedIoSamples {
  if (samples.length === 0) return { syntax: [], content: [], fallback: false };
  const sameShape = samples.every(
    (sample) => sample.inputLines === samples[0].inputLines && sample.outputLines === samples[0].outputLines,
  );
  const pad = (count: number, syntax: string[], content: string[]): void => {
    for (let i = 0; i < count; i++) {
      syntax.push(SPECIAL_TOKENS.ioPadSyntax);
      content.push(SPECIAL_TOKENS.ioPadContent);
    }
  };
  if (!sameShape) {
    const longest = Math.max(...samples.map((sample) => sample.s3.length));
    const syntax = samples.map((sample) => {
      const out = sample.s3.slice(0, -1);
      pad(longest - sample.s3.length, out, []);
      return [...out, sample.s3[sample.s3.length - 1]];
    });
    const content = samples.map((sample) => {
      const out = sample.s4.slice(0, -1);
      pad(longest - sample.s4.length, [], out);
      return [...out, sample.s4[sample.s4.length - 1]];
    });
    return { syntax, content, fallback: true };
  }
  const widths = samples[0].lineTokenCounts.map((_, line) => Math.max(...samples.map((sample) => sample.lineTokenCounts[line])));
  const syntax: string[][] = [];
  const content: string[][] = [];
  for (const sample of samples) {
    const outSyntax: string[] = [];
    const outContent: string[] = [];
    let cursor = 0;
    widths.forEach((width, line) => {
      const count = sample.lineTokenCounts[line];
      pad(width - count, outSyntax, outContent);
      outSyntax.push(...sample.s3.slice(cursor, cursor + count));
      outContent.push(...sample.s4.slice(cursor, cursor + count));
      cursor += count;
    });
    // The final pair carries the closing brackets (and the text of any trailing empty lines).
    outSyntax.push(sample.s3[cursor]);
    outContent.push(sample.s4[cursor]);
    syntax.push(outSyntax);
    content.push(outContent);
  }
  return { syntax, content, fallback: false };
}
