import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { restoreOutput, runMain } from './capture-main.js';

const dir = mkdtempSync(join(tmpdir(), 'sculpt-cc-tok-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(restoreOutput);

const PROGRAM = 'n = int(input())\nfor i in range(n):\n    print(i * 2.5, end=" ")\n';

describe('sculpt chaincoder tokenizer commands', () => {
  it('tokenize prints S1-S4 and renames', async () => {
    const file = join(dir, 'prog.py');
    writeFileSync(file, PROGRAM);
    const { code, stdout } = await runMain('--json', 'chaincoder', 'tokenize', file);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { s1: string[]; s2: string[]; s3: string[]; s4: string[]; renames: Record<string, string>; outline: string };
    expect(result.s3).toHaveLength(result.s4.length);
    expect(result.renames).toEqual({ n: 'var_0', i: 'var_1' });
    expect(result.outline).toBe('ast:32');
    expect(result.s2.length).toBeGreaterThan(0);
  });

  it('detokenize inverts tokenize', async () => {
    const file = join(dir, 'prog2.py');
    writeFileSync(file, PROGRAM);
    const tokenized = await runMain('--json', 'chaincoder', 'tokenize', file, '--mode', 'compat', '--outline', 'stride:4');
    const jsonFile = join(dir, 'prog2.json');
    writeFileSync(jsonFile, tokenized.stdout);
    const { code, stdout } = await runMain('chaincoder', 'detokenize', jsonFile);
    expect(code).toBe(0);
    // Compat mode snaps 2.5 to the float grid (2.5 is on it) and keeps the keyword name of a builtin call renamed.
    expect(stdout).toBe("var_0 = int(input())\nfor var_1 in range(var_0):\n    print(var_1 * 2.5, var_2=' ')\n");
  });

  it('tokenize reports syntax errors with the position', async () => {
    const file = join(dir, 'bad.py');
    writeFileSync(file, 'x = (1 +\n');
    const { code, stderr } = await runMain('chaincoder', 'tokenize', file);
    expect(code).toBe(1);
    expect(stderr).toMatch(/bad\.py.*line \d+, column \d+/);
  });

  it('rejects an unknown outline strategy', async () => {
    const file = join(dir, 'prog3.py');
    writeFileSync(file, PROGRAM);
    const { code, stderr } = await runMain('chaincoder', 'tokenize', file, '--outline', 'zigzag');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown outline strategy 'zigzag'");
  });

  it('detokenize rejects a broken document', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify({ s3: ['Module(body=['], s4: [] }));
    const { code, stderr } = await runMain('chaincoder', 'detokenize', file);
    expect(code).toBe(1);
    expect(stderr).toContain('length-mismatch');
  });

  it('vocab build writes a vocabulary', async () => {
    const source = join(dir, 'src');
    mkdirSync(source);
    writeFileSync(join(source, 'a.py'), PROGRAM);
    writeFileSync(join(source, 'b.py'), 'x = int(input())\nprint(x)\n');
    writeFileSync(join(source, 'broken.py'), 'def (:\n');
    const out = join(dir, 'vocab.json');
    const { code, stdout } = await runMain('--json', 'chaincoder', 'vocab', 'build', source, '--out', out, '--min-syntax-count', '2');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { programs: number; skipped: { file: string }[]; keptSyntaxTokens: number };
    expect(report.programs).toBe(2);
    expect(report.skipped.map((s) => s.file)).toEqual([join(source, 'broken.py')]);
    expect(report.keptSyntaxTokens).toBeGreaterThan(0);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { format: string; kind: string; tokens: string[] };
    expect(saved.format).toBe('sculpt-chaincoder-vocabulary');
    expect(saved.kind).toBe('output');
  });
});
