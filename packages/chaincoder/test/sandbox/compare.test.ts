import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compatNormalizeOutput, normalizeOutput, outputsMatch, pythonFloatRepr } from '../../src/sandbox/index.js';

describe('normalizeOutput', () => {
  it('strips trailing spaces and blank lines', () => {
    expect(normalizeOutput('1 2  \r\n3\t\n\n\n')).toBe('1 2\n3');
  });

  it('keeps leading spaces and inner blank lines', () => {
    expect(normalizeOutput('  a\n\nb\n')).toBe('  a\n\nb');
  });

  it('distinguishes different numbers', () => {
    expect(outputsMatch('1.50\n', '1.5\n')).toBe(false);
    expect(outputsMatch('YES \n', 'YES')).toBe(true);
  });
});

describe('compat comparison', () => {
  it('reproduces the lossy reference rule', () => {
    expect(outputsMatch('1.50\n', '1.5', 'compat')).toBe(true);
    expect(outputsMatch('007', '7', 'compat')).toBe(true);
    expect(compatNormalizeOutput('  a   b \n 2.0e1 ')).toBe('a b\n20.0');
  });
});

describe('pythonFloatRepr', () => {
  it('matches CPython repr', () => {
    const values = [1.5, 0.1 + 0.2, 1e16, 1e-5, 0.0001, 123, 1234567890123456, 12345678901234567, -2.5e-7, 1e22, 0.5, 100, -0];
    const python = execFileSync('python3', ['-c', `import json,sys\nfor v in json.loads(sys.argv[1]): print(repr(float(v)))`, JSON.stringify(values)], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    // JSON has no negative zero, so CPython receives 0 for the last value.
    python[python.length - 1] = '-0.0';
    expect(values.map(pythonFloatRepr)).toEqual(python);
  });
});
