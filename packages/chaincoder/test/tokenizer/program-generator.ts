/**
 * A small random generator of valid Python 3.11 programs for property tests.
 * Expressions are written with random extra parentheses and mixed operators,
 * so the converter's precedence handling and the unparser's minimal
 * parenthesization are both exercised.
 */
import { Random } from '@sculpt/core';

const NAMES = ['a', 'b', 'total', 'xs', 'n', 'k'];
const BINARY = ['+', '-', '*', '/', '//', '%', '**', '<<', '>>', '|', '^', '&', '@'];
const COMPARE = ['<', '<=', '==', '!=', '>', '>=', 'in', 'not in', 'is', 'is not'];
const STRINGS = ["'x'", '"a\\tb"', "'\\x00\\n'", "r'\\d+'", "b'\\xff'", "'''q\"q'''", "u'u'", "'é'", "''"];
const FLOATS = ['1.5', '0.1', '1e-05', '2.5e+16', '1e22', '.5', '3.', '1_000.25', '12345678901234567890.0'];

export class ProgramGenerator {
  private readonly random: Random;

  constructor(seed: number) {
    this.random = new Random(seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.random.int(0, items.length - 1)];
  }

  private chance(p: number): boolean {
    return this.random.nextFloat() < p;
  }

  private atom(): string {
    switch (this.random.int(0, 8)) {
      case 0:
        return String(this.random.int(0, 300));
      case 1:
        return this.pick(FLOATS);
      case 2:
        return this.pick(STRINGS);
      case 3:
        return String(this.random.int(0, 1_000_000_000)) + String(this.random.int(0, 1_000_000_000));
      case 4:
        return this.pick(['True', 'False', 'None', '...', '0x1F', '0o17', '0b101', '2j']);
      default:
        return this.pick(NAMES);
    }
  }

  expr(depth = 0): string {
    if (depth > 3) return this.atom();
    const sub = (): string => this.expr(depth + 1);
    let text: string;
    // Operators that bind looser than arithmetic must be parenthesized when used as an operand.
    let loose = false;
    switch (this.random.int(0, 15)) {
      case 0:
      case 1:
        text = `${sub()} ${this.pick(BINARY)} ${sub()}`;
        break;
      case 2:
        text = `${this.pick(['-', '+', '~', 'not '])}${sub()}`;
        loose = text.startsWith('not ');
        break;
      case 3:
        text = `${sub()} ${this.pick(COMPARE)} ${sub()}${this.chance(0.4) ? ` ${this.pick(COMPARE)} ${sub()}` : ''}`;
        loose = true;
        break;
      case 4:
        text = `${sub()} ${this.pick(['and', 'or'])} ${sub()} ${this.pick(['and', 'or'])} ${sub()}`;
        loose = true;
        break;
      case 5:
        text = `${sub()} if ${sub()} else ${sub()}`;
        loose = true;
        break;
      case 6:
        text = `f(${sub()}, *${this.pick(NAMES)}, key=${sub()}, **${this.pick(NAMES)})`;
        break;
      case 7:
        text = `${this.pick(NAMES)}[${sub()}:${this.chance(0.5) ? sub() : ''}${this.chance(0.3) ? ':' + sub() : ''}]`;
        break;
      case 8:
        text = `[${sub()}, *${this.pick(NAMES)}]`;
        break;
      case 9:
        text = `{${sub()}: ${sub()}, **${this.pick(NAMES)}}`;
        break;
      case 10:
        text = `[${sub()} for ${this.pick(NAMES)}, ${this.pick(NAMES)} in ${sub()} if ${sub()}]`;
        break;
      case 11:
        text = `lambda ${this.pick(NAMES)}, *r, q=1: ${sub()}`;
        loose = true;
        break;
      case 12:
        text = `f'{${this.pick(NAMES)}!r:>{${this.pick(NAMES)}}} and {${this.pick(NAMES)} + 1:.3f} {{braces}}'`;
        break;
      case 13:
        text = `(${sub()}, ${sub()})`;
        break;
      case 14:
        text = `${this.pick(NAMES)}.attr.method(${sub()})`;
        break;
      default:
        text = this.atom();
    }
    return (loose && depth > 0) || this.chance(0.25) ? `(${text})` : text;
  }

  /** A case pattern; ast.parse accepts alternatives that bind different names, which only the compiler rejects. */
  private pattern(depth: number): string {
    const sub = (): string => (depth > 2 ? this.pick(NAMES) : this.pattern(depth + 1));
    switch (this.random.int(0, 9)) {
      case 0:
        return this.pick(['0', '-7', '1.5', '-2.5e3', "'s' 't'", "b'x'", '3 + 4j', '-1 - 2j', 'math.pi']);
      case 1:
        return this.pick(['None', 'True', 'False', '_']);
      case 2:
        return `[${sub()}, *${this.pick(['rest', '_'])}]`;
      case 3:
        return `(${sub()},)`;
      case 4:
        return `{'key': ${sub()}, -1: ${sub()}${this.chance(0.5) ? ', **extra' : ''}}`;
      case 5:
        return `Point(${sub()}, x=${sub()})`;
      case 6:
        return `(${sub()} | ${sub()})`;
      case 7:
        return `(${sub()} as ${this.pick(NAMES)})`;
      default:
        return this.pick(NAMES);
    }
  }

  private block(depth: number, indent: string): string[] {
    const count = this.random.int(1, 3);
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(...this.statement(depth, indent));
    return lines;
  }

  statement(depth: number, indent: string): string[] {
    const inner = indent + '    ';
    const choice = depth > 2 ? this.random.int(0, 3) : this.random.int(0, 11);
    switch (choice) {
      case 0:
        return [`${indent}${this.pick(NAMES)} = ${this.expr()}`];
      case 1:
        return [`${indent}${this.pick(NAMES)} ${this.pick(BINARY)}= ${this.expr()}`];
      case 2:
        return [`${indent}${this.pick(NAMES)}, *${this.pick(NAMES)} = ${this.expr()}`];
      case 3:
        return [`${indent}print(${this.expr()}, end='')`];
      case 4:
        return [`${indent}if ${this.expr()}:`, ...this.block(depth + 1, inner), `${indent}elif ${this.expr()}:`, ...this.block(depth + 1, inner), `${indent}else:`, ...this.block(depth + 1, inner)];
      case 5:
        return [`${indent}for ${this.pick(NAMES)} in ${this.expr()}:`, ...this.block(depth + 1, inner)];
      case 6:
        return [`${indent}while ${this.expr()}:`, ...this.block(depth + 1, inner), `${indent}    break`];
      case 7:
        return [
          `${indent}def solve(${this.pick(NAMES)}, /, m=2, *args, flag, opt=None, **kw) -> int:`,
          `${inner}"""Docstring."""`,
          ...this.block(depth + 1, inner),
          `${inner}return ${this.expr()}`,
        ];
      case 8:
        return [
          `${indent}try:`,
          ...this.block(depth + 1, inner),
          `${indent}except (ValueError, KeyError) as err:`,
          `${inner}raise RuntimeError('bad') from err`,
          `${indent}finally:`,
          `${inner}pass`,
        ];
      case 10:
        return [
          `${indent}match ${this.expr()}:`,
          `${inner}case ${this.pattern(0)}${this.chance(0.5) ? ` if ${this.expr()}` : ''}:`,
          ...this.block(depth + 2, inner + '    '),
          `${inner}case ${this.pattern(0)} | _:`,
          ...this.block(depth + 2, inner + '    '),
        ];
      case 11:
        return [
          `${indent}async def fetch(${this.pick(NAMES)}):`,
          `${inner}${this.pick(NAMES)} = await ${this.pick(NAMES)}.get(${this.expr()})`,
          `${inner}async for ${this.pick(NAMES)} in ${this.expr()}:`,
          ...this.block(depth + 2, inner + '    '),
          `${inner}async with ${this.pick(NAMES)}() as ${this.pick(NAMES)}:`,
          `${inner}    return [await ${this.pick(NAMES)} async for ${this.pick(NAMES)} in (${this.expr()})]`,
        ];
      default:
        return [`${indent}with open(${this.expr()}) as fh, ctx():`, ...this.block(depth + 1, inner)];
    }
  }

  program(): string {
    const lines = ['import math', 'from collections import deque as dq'];
    const count = this.random.int(2, 6);
    for (let i = 0; i < count; i++) lines.push(...this.statement(0, ''));
    return lines.join('\n') + '\n';
  }
}
