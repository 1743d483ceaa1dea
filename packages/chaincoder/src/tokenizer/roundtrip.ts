/**
 * The lossless round-trip check against CPython: tokenize, serialize the
 * target, decode it, and compare `ast.dump(ast.parse(decoded))` with
 * `ast.dump(normalize(ast.parse(src)))`, where normalize applies the same
 * rename map to every identifier field and (when enabled) sets the value of
 * every `Expr(Constant)` statement to ''. Both dumps come from the real python3.
 */
import type { PythonAstOracle } from '../ast/python-oracle.js';
import { PythonSyntaxError, UnsupportedSyntaxError } from '../ast/parse.js';
import { decodeProgram } from './decode.js';
import { serializeTarget } from './target.js';
import { PoolOverflowError } from './normalize.js';
import type { EncodeOptions, ProgramTokenizer } from './encode.js';
import type { CorpusProgram } from './corpus.js';

export type RoundTripStatus =
  | 'pass'
  | 'mismatch'
  | 'tokenizer-error'
  | 'unsupported'
  | 'pool-overflow'
  /** CPython itself rejects the source (test data of invalid syntax, Python 2 files). */
  | 'invalid-python';

export interface RoundTripOutcome {
  name: string;
  status: RoundTripStatus;
  /** For failures: the construct or error involved. */
  detail?: string;
  tokens?: number;
}

/** Names the node class around the first difference of two dumps, e.g. `JoinedStr` in `…JoinedStr(values=[Cons…`. */
export function firstDifference(expected: string, actual: string): string {
  let i = 0;
  while (i < expected.length && expected[i] === actual[i]) i++;
  const before = expected.slice(0, i);
  const match = /([A-Za-z_]+)\((?:[^()]*)$/.exec(before) ?? /([A-Za-z_]+)\([^(]*$/.exec(before);
  const construct = match?.[1] ?? 'Module';
  return `${construct}: expected …${expected.slice(Math.max(0, i - 60), i + 60)}… got …${actual.slice(Math.max(0, i - 60), i + 60)}…`;
}

export async function checkRoundTrip(
  program: CorpusProgram,
  tokenizer: ProgramTokenizer,
  oracle: PythonAstOracle,
  options: EncodeOptions = {},
): Promise<RoundTripOutcome> {
  const { name, source } = program;
  let encoded;
  try {
    encoded = tokenizer.encode(source, { ...options, mode: 'lossless', file: name });
  } catch (error) {
    const cpythonAccepts = await oracle.parses(source);
    if (!cpythonAccepts) return { name, status: 'invalid-python', detail: (error as Error).message };
    if (error instanceof UnsupportedSyntaxError) return { name, status: 'unsupported', detail: error.construct };
    if (error instanceof PoolOverflowError) return { name, status: 'pool-overflow', detail: error.pool };
    if (error instanceof PythonSyntaxError) return { name, status: 'tokenizer-error', detail: error.message };
    return { name, status: 'tokenizer-error', detail: `${(error as Error).name}: ${(error as Error).message}` };
  }
  let decoded: string;
  try {
    decoded = decodeProgram(serializeTarget(encoded)).source;
  } catch (error) {
    return { name, status: 'tokenizer-error', detail: `decode failed: ${(error as Error).message}` };
  }
  let verdict;
  try {
    verdict = await oracle.roundTrip(source, decoded, encoded.renames, encoded.emptyDocstrings);
  } catch (error) {
    return { name, status: 'invalid-python', detail: `the tokenizer accepted a source CPython rejects: ${(error as Error).message}` };
  }
  if (verdict.equal) return { name, status: 'pass', tokens: encoded.s3.length + encoded.s4.length };
  return { name, status: 'mismatch', detail: firstDifference(verdict.expected, verdict.actual) };
}
