/**
 * `sculpt study` on the real stories260K model with the real calibration and
 * evaluation samples: a small grid, killed after its first finished cell and
 * resumed, then run once more to check that nothing is redone.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultsStore } from '@sculpt/core';
import { repoRoot, sculpt, sharedData, storiesModel } from './prune-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sculpt-study-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configFile = join(dir, 'study.json');
writeFileSync(
  configFile,
  JSON.stringify({
    model: storiesModel,
    dataDir: sharedData,
    out: 'out',
    calibration: ['c4', { datasets: ['gsm8k'], split: 'test' }],
    formats: ['icl'],
    methods: ['wanda'],
    sparsities: [0.5],
    seeds: [0],
    nsamples: 2,
    seqlen: 64,
    tasks: ['winogrande'],
    taskLimit: 2,
    perplexity: { dataset: 'wikitext2', split: 'validation', seqlen: 64, maxWindows: 2 },
  }),
);
const store = join(dir, 'out', 'results.sqlite');

function doneCells(): number {
  if (!existsSync(store)) return 0;
  try {
    const results = ResultsStore.open(store, { readonly: true });
    try {
      return results.listRuns().reduce((sum, run) => sum + results.units(run.id, 'done').length, 0);
    } finally {
      results.close();
    }
  } catch {
    return 0;
  }
}

/** Starts the study and kills it with SIGKILL once a first cell is recorded as done. */
function runAndKill(): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [resolve(repoRoot, 'tools/cli/bin/sculpt.js'), '--config', configFile, 'study'], {
      cwd: repoRoot,
      env: { ...process.env, SCULPT_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const timer = setInterval(() => {
      if (doneCells() >= 1) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 100);
    child.on('exit', () => {
      clearInterval(timer);
      resolvePromise();
    });
    child.on('error', reject);
  });
}

describe('sculpt study', () => {
  it('resumes a killed study without redoing cells', async () => {
    await runAndKill();
    const finishedBeforeKill = doneCells();
    expect(finishedBeforeKill).toBeGreaterThanOrEqual(1);

    const resumed = sculpt(['--json', '--config', configFile, 'study'], 300_000);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { cells: number; executed: string[]; reused: number; report: { markdown: string; plots: string[] } };
    expect(summary.cells).toBe(3);
    expect(summary.reused).toBe(finishedBeforeKill);
    expect(summary.executed).toHaveLength(3 - finishedBeforeKill);
    expect(summary.executed).not.toContain('dense');

    const markdown = readFileSync(summary.report.markdown, 'utf8');
    expect(markdown).toContain('## wanda @ 50%');
    expect(markdown).toMatch(/\| dense \| {2}\| [\d.]+ \| [\d.]+ \|/);
    expect(markdown).toMatch(/\| c4 \| window \| [\d.]+ \|/);
    expect(markdown).toMatch(/\| gsm8k \| icl \| [\d.]+ \|/);
    for (const plot of summary.report.plots) expect(existsSync(plot)).toBe(true);
    expect(summary.report.plots.some((plot) => plot.endsWith('perplexity.png'))).toBe(true);
    expect(readFileSync(summary.report.plots.find((plot) => plot.endsWith('.svg'))!, 'utf8')).toContain('<svg');

    // Each pruned cell kept its calibration windows.
    expect(existsSync(join(dir, 'out', 'cells', 'c4_window_wanda_0.5_seed0', 'stories260K.bin.calibration.json'))).toBe(true);

    const again = sculpt(['--json', '--config', configFile, 'study'], 120_000);
    expect(again.code, again.stderr).toBe(0);
    const rerun = JSON.parse(again.stdout) as { executed: string[]; reused: number };
    expect(rerun.executed).toEqual([]);
    expect(rerun.reused).toBe(3);
  }, 600_000);

  it('rejects an invalid configuration', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ model: storiesModel, dataDir: sharedData, out: 'x', calibration: [], methods: ['wanda'] }));
    const { code, stderr } = sculpt(['--config', bad, 'study']);
    expect(code).toBe(2);
    expect(stderr).toContain('calibration');
  });
});
