import { beforeAll, describe, expect, it } from 'vitest';
import { createPythonParser, type PythonParser } from '../../src/ast/parse.js';
import { computeRenames, keptNames, PoolOverflowError } from '../../src/tokenizer/normalize.js';

describe('identifier renaming', () => {
  let parser: PythonParser;
  beforeAll(async () => {
    parser = await createPythonParser();
  });

  it('keeps builtins and import-linked names', () => {
    const tree = parser.parse('import numpy as np\nfrom os import path\nx = np.linalg.norm(path.join(a))\ny = x.split()\n');
    const kept = keptNames(tree, 'lossless');
    for (const name of ['np', 'numpy', 'path', 'os', 'linalg', 'norm', 'join', 'split', 'len']) expect(kept.has(name), name).toBe(true);
    for (const name of ['x', 'y', 'a']) expect(kept.has(name), name).toBe(false);
  });

  it('keeps keyword names of kept callees in lossless mode only', () => {
    const tree = parser.parse('print(x, end="")\nsolve(k=1)\n');
    expect(keptNames(tree, 'lossless').has('end')).toBe(true);
    expect(keptNames(tree, 'lossless').has('k')).toBe(false);
    expect(keptNames(tree, 'compat').has('end')).toBe(false);
  });

  it('assigns pools by definition kind and first appearance', () => {
    const tree = parser.parse('class Node:\n    pass\ndef walk(node, depth):\n    seen = Node()\n    return walk(seen, depth)\n');
    const renames = computeRenames(tree, { mode: 'lossless', poolSize: 50 });
    expect(Object.fromEntries(renames)).toEqual({ Node: 'Class_0', walk: 'func_0', node: 'var_in_0', depth: 'var_in_1', seen: 'var_0' });
  });

  it('reports pool overflow with the pool name', () => {
    const tree = parser.parse('def f(a, b, c): pass\n');
    let caught: unknown;
    try {
      computeRenames(tree, { mode: 'lossless', poolSize: 2, file: 'prog.py' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PoolOverflowError);
    expect((caught as PoolOverflowError).pool).toBe('var_in');
    expect((caught as PoolOverflowError).message).toContain('prog.py');
  });
});
