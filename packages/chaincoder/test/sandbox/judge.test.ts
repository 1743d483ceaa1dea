import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonSandbox, judgeProgram } from '../../src/sandbox/index.js';

const tests = [
  { input: '2 3\n', output: '5\n' },
  { input: '10 -4\n', output: '6' },
  { input: '0 0\n', output: '0\n' },
];

describe('judgeProgram', () => {
  let sandbox: PythonSandbox;
  beforeAll(async () => {
    sandbox = await PythonSandbox.create();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('passes a correct program', async () => {
    const verdict = await judgeProgram(sandbox, 'a, b = map(int, input().split())\nprint(a + b)\n', tests);
    expect(verdict.passed).toBe(true);
    expect(verdict.passedCount).toBe(3);
    expect(verdict.ranWithoutError).toBe(true);
  });

  it('stops at the first wrong answer', async () => {
    const verdict = await judgeProgram(sandbox, 'a, b = map(int, input().split())\nprint(a * b if a == 10 else a + b)\n', tests);
    expect(verdict.passed).toBe(false);
    expect(verdict.runCount).toBe(2);
    expect(verdict.ranWithoutError).toBe(true);
  });

  it('runs every test when asked', async () => {
    const verdict = await judgeProgram(sandbox, 'a, b = map(int, input().split())\nprint(a * b if a == 10 else a + b)\n', tests, {
      stopOnFailure: false,
    });
    expect(verdict.runCount).toBe(3);
    expect(verdict.passedCount).toBe(2);
  });

  it('reports a runtime error', async () => {
    const verdict = await judgeProgram(sandbox, 'print(1 // 0)\n', tests);
    expect(verdict.passed).toBe(false);
    expect(verdict.ranWithoutError).toBe(false);
    expect(verdict.tests[0].stderr).toContain('ZeroDivisionError');
  });

  it('fails stderr output only in compat mode', async () => {
    const program = 'import sys\na, b = map(int, input().split())\nprint("debug", file=sys.stderr)\nprint(a + b)\n';
    expect((await judgeProgram(sandbox, program, tests)).passed).toBe(true);
    expect((await judgeProgram(sandbox, program, tests, { comparison: 'compat' })).passed).toBe(false);
  });
});
