/**
 * A long-lived `python3` process (scripts/python_ast_oracle.py) that replies to
 * JSON-line requests: CPython's own syntax tree for a source, and whether a
 * decoded program has the same `ast.dump` as the normalized original. It is
 * the reference the tokenizer round-trip checks are measured against.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SculptError } from '@sculpt/core';
import { isAstNode, isPyConstant, type AstValue } from './nodes.js';
import { pyFloatRepr } from './literals.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/python_ast_oracle.py', import.meta.url));

export interface RoundTripVerdict {
  equal: boolean;
  expected: string;
  actual: string;
}

export class PythonAstOracle {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  private stderr = '';

  private constructor(python: string) {
    this.child = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.resolve(line));
    this.child.on('exit', (code) => {
      const error = new SculptError(`python AST oracle exited with code ${code}: ${this.stderr.trim()}`);
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    });
    this.child.on('error', (error) => {
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    });
  }

  /** Starts the oracle; it needs Python 3.9 or later, and 3.11 for `tree`. */
  static async start(python = 'python3'): Promise<PythonAstOracle> {
    const oracle = new PythonAstOracle(python);
    await oracle.request({ op: 'version' });
    return oracle;
  }

  private request(message: object): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        resolve: (line) => {
          const reply = JSON.parse(line) as Record<string, unknown>;
          if (reply.ok !== true) reject(new SculptError(`python AST oracle failed: ${String(reply.error)}`));
          else resolve(reply);
        },
        reject,
      });
      this.child.stdin.write(JSON.stringify(message) + '\n');
    });
  }

  /** CPython's tree for `src` in the JSON form of `treeToJson`. */
  async tree(src: string): Promise<unknown> {
    return (await this.request({ op: 'tree', src })).tree;
  }

  /** Checks whether CPython's `ast.parse` accepts `src`. */
  async parses(src: string): Promise<boolean> {
    return (await this.request({ op: 'parses', src })).parses === true;
  }

  /** Compares `ast.dump(parse(decoded))` with `ast.dump(normalize(parse(src)))`. */
  async roundTrip(src: string, decoded: string, renames: Record<string, string>, emptyDocstrings: boolean): Promise<RoundTripVerdict> {
    const reply = await this.request({ op: 'roundtrip', src, decoded, renames, emptyDocstrings });
    return { equal: reply.equal === true, expected: String(reply.expected), actual: String(reply.actual) };
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** Converts a tree to the oracle's JSON form, for exact comparison with CPython's tree. */
export function treeToJson(value: AstValue): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(treeToJson);
  if (isPyConstant(value)) {
    switch (value.py) {
      case 'int':
        return { py: 'int', value: value.value.toString() };
      case 'float':
        return { py: 'float', value: pyFloatRepr(value.value) };
      case 'complex':
        return { py: 'complex', value: pyFloatRepr(value.value) };
      case 'None':
      case 'Ellipsis':
        return { py: value.py };
      default:
        return { py: value.py, value: value.value };
    }
  }
  if (isAstNode(value)) {
    const out: Record<string, unknown> = { _type: value._type };
    for (const [key, field] of Object.entries(value)) if (key !== '_type') out[key] = treeToJson(field);
    return out;
  }
  throw new Error('unexpected value in syntax tree');
}

