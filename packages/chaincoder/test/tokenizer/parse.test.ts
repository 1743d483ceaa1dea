import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPythonParser, PythonSyntaxError, UnsupportedSyntaxError, type PythonParser } from '../../src/ast/parse.js';
import { PythonAstOracle, treeToJson } from '../../src/ast/python-oracle.js';
import { unparse } from '../../src/ast/unparse.js';
import { EDGE_CASES } from './edge-cases.js';
import goldens from './goldens/parse-edge-cases.json' with { type: 'json' };

describe('tree-sitter to CPython-shaped tree', () => {
  let parser: PythonParser;
  let oracle: PythonAstOracle;

  beforeAll(async () => {
    parser = await createPythonParser();
    oracle = await PythonAstOracle.start();
  });
  afterAll(() => oracle.close());

  for (const [name, source] of Object.entries(EDGE_CASES)) {
    it(`matches CPython golden: ${name}`, () => {
      expect(treeToJson(parser.parse(source))).toEqual((goldens as Record<string, unknown>)[name]);
    });

    it(`unparse round trip: ${name}`, async () => {
      const verdict = await oracle.roundTrip(source, unparse(parser.parse(source)), {}, false);
      expect(verdict.actual).toBe(verdict.expected);
    });
  }

  it('reports syntax errors with line and column', () => {
    const error = (() => {
      try {
        parser.parse('x = 1\ny = (2 +\n', 'bad.py');
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(PythonSyntaxError);
    expect((error as PythonSyntaxError).line).toBeGreaterThanOrEqual(2);
    expect((error as PythonSyntaxError).message).toContain('bad.py');
    expect((error as PythonSyntaxError).message).toMatch(/line \d+, column \d+/);
  });

  it('rejects Python 2 print statement', () => {
    expect(() => parser.parse('print "x"\n')).toThrow(PythonSyntaxError);
  });

  it('rejects bad literals CPython rejects', () => {
    expect(() => parser.parse('x = 0123\n')).toThrow(PythonSyntaxError);
    expect(() => parser.parse('x = "\\x4"\n')).toThrow(PythonSyntaxError);
  });

  it('rejects except mixed with except*', () => {
    expect(() => parser.parse('try:\n    pass\nexcept* E:\n    pass\nexcept F:\n    pass\n')).toThrow(PythonSyntaxError);
  });

  it('rejects a malformed complex pattern', () => {
    expect(() => parser.parse('match x:\n    case 1 + 2:\n        pass\n')).toThrow(PythonSyntaxError);
  });

  it.each([
    ['type alias statement', 'type Point = tuple[float, float]\n'],
    ['type parameters', 'def f[T](x: T) -> T:\n    return x\n'],
    ['\\N{...} escape', 'x = "\\N{BULLET}"\n'],
  ])('rejects unsupported %s', (construct, source) => {
    let caught: unknown;
    try {
      parser.parse(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnsupportedSyntaxError);
    expect((caught as UnsupportedSyntaxError).construct).toBe(construct);
  });
});
