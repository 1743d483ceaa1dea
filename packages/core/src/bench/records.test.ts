import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { benchResultsPath, findWorkspaceRoot, formatBenchTable, mergeBenchRecords, type BenchRecord } from './records.js';

describe('benchmark records', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sculpt-bench-'));
    await writeFile(join(root, 'nx.json'), '{}');
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const record = (name: string, device: string, value: number): BenchRecord => ({ case: name, device, value, unit: 'GFLOP/s', baseline: 2, ratio: value / 2 });

  it('finds the workspace root from a nested folder', async () => {
    const nested = join(root, 'packages', 'x', 'bench');
    await mkdir(nested, { recursive: true });
    expect(findWorkspaceRoot(nested)).toBe(root);
    expect(benchResultsPath('x', root)).toBe(join(root, 'bench-results', 'x.json'));
  });

  it('replaces records with the same case and device and keeps the others', async () => {
    await mergeBenchRecords('x', [record('a', 'cpu', 1), record('a', 'webgpu', 3), record('b', 'cpu', 5)], root);
    await mergeBenchRecords('x', [record('a', 'cpu', 7)], root);
    const saved = JSON.parse(await readFile(benchResultsPath('x', root), 'utf8')) as BenchRecord[];
    expect(saved.map((entry) => [entry.case, entry.device, entry.value])).toEqual([
      ['a', 'webgpu', 3],
      ['b', 'cpu', 5],
      ['a', 'cpu', 7],
    ]);
  });

  it('rejects invalid results file untouched', async () => {
    const file = benchResultsPath('x', root);
    await mkdir(join(root, 'bench-results'));
    await writeFile(file, '{"broken": ');
    await expect(mergeBenchRecords('x', [record('a', 'cpu', 1)], root)).rejects.toBeInstanceOf(InputError);
    expect(await readFile(file, 'utf8')).toBe('{"broken": ');
  });

  it('formats an aligned table with dashes for missing baselines', () => {
    const table = formatBenchTable([record('matmul 1024', 'cpu', 12.5), { ...record('x', 'webgpu', 3), baseline: null, ratio: null }]);
    const lines = table.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0].startsWith('case')).toBe(true);
    expect(lines[2]).toMatch(/ -\s+-$/u);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });
});
