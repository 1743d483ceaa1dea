/** `sculpt prune` and `sculpt eval TASK` as a user runs them, on the real stories260K model and shared data. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, sculpt, sharedData, storiesModel } from './prune-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sculpt-prune-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  method: string;
  actualSparsity: number;
  pattern: string | null;
  hessianPrecision: string | null;
  device: string;
  layers: { name: string; sparsity: number; reconstructionError: number; relativeError: number }[];
  calibration: { nsamples: number; seqlen: number; datasets: string[] };
  reportPath: string;
  calibrationPath: string | null;
  peakMemoryBytes: number;
  seconds: number;
}

function prune(...args: string[]) {
  return sculpt(['--json', 'prune', '--model', storiesModel, '--data-dir', sharedData, '--nsamples', '4', '--seqlen', '64', ...args]);
}

describe('sculpt prune', () => {
  it('Wanda 50% on C4 windows', () => {
    const out = join(dir, 'wanda.bin');
    const { code, stdout, stderr } = prune('--method', 'wanda', '--sparsity', '0.5', '--calibration', 'c4', '--out', out);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.actualSparsity).toBe(0.5);
    expect(report.layers).toHaveLength(35);
    for (const layer of report.layers) {
      expect(layer.sparsity).toBe(0.5);
      expect(layer.relativeError).toBeGreaterThan(0);
      expect(layer.relativeError).toBeLessThan(1);
    }
    expect(report.calibration).toMatchObject({ nsamples: 4, seqlen: 64, datasets: ['c4'] });
    expect(report.peakMemoryBytes).toBeGreaterThan(0);
    expect(statSync(out).size).toBe(statSync(storiesModel).size);
    expect(JSON.parse(readFileSync(report.reportPath, 'utf8'))).toMatchObject({ method: 'wanda', actualSparsity: 0.5 });
    const calibration = JSON.parse(readFileSync(report.calibrationPath!, 'utf8')) as { samples: number[][]; seqlen: number };
    expect(calibration.samples).toHaveLength(4);
    expect(calibration.samples[0]).toHaveLength(64);
    // The tokenizer travels with the pruned model so it can be evaluated directly.
    expect(existsSync(join(dir, 'tok512.bin'))).toBe(true);
    // Wanda uses no Hessian, so the report records no Hessian precision.
    expect(report.hessianPrecision).toBeNull();
    expect(report.device).toBe('host');

    // A second run to the same output is refused before it samples calibration windows.
    const calibrationBefore = readFileSync(report.calibrationPath!);
    const again = prune('--method', 'wanda', '--calibration', 'c4', '--seed', '7', '--out', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(readFileSync(report.calibrationPath!)).toEqual(calibrationBefore);
  });

  it('rejects seqlen beyond the context', () => {
    // The last --seqlen wins in commander, so 4096 overrides the helper's 64.
    const { code, stderr } = prune('--method', 'wanda', '--calibration', 'c4', '--seqlen', '4096', '--out', join(dir, 'long.bin'));
    expect(code).toBe(2);
    expect(stderr).toContain('--seqlen 4096 is larger than the context length 512');
    expect(existsSync(join(dir, 'long.bin'))).toBe(false);
  });

  it('SparseGPT 2:4 on GSM8K in-context examples', () => {
    const out = join(dir, 'sparsegpt-24.bin');
    const { code, stdout, stderr } = prune('--method', 'sparsegpt', '--pattern', '2:4', '--calibration', 'gsm8k', '--split', 'test', '--format', 'icl', '--out', out);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.pattern).toBe('2:4');
    expect(report.actualSparsity).toBe(0.5);
    expect(report.hessianPrecision).toBe('float32');
  });

  it('SparseGPT with float64 Hessians', () => {
    const out = join(dir, 'sparsegpt-f64.bin');
    const { code, stdout, stderr } = prune('--method', 'sparsegpt', '--calibration', 'c4', '--hessian-precision', 'float64', '--out', out);
    expect(code, stderr).toBe(0);
    const precise = JSON.parse(stdout) as Report;
    expect(precise.hessianPrecision).toBe('float64');
    const single = JSON.parse(prune('--method', 'sparsegpt', '--calibration', 'c4', '--out', join(dir, 'sparsegpt-f32.bin')).stdout) as Report;
    // Rounding the Hessian to float32 moves the reconstruction error of a layer by far less than a percent.
    precise.layers.forEach((layer, i) => expect(Math.abs(single.layers[i].relativeError - layer.relativeError)).toBeLessThan(1e-2 * layer.relativeError + 1e-6));
  });

  it('replays a calibration file', () => {
    const first = JSON.parse(prune('--method', 'wanda', '--calibration', 'c4', '--out', join(dir, 'a.bin')).stdout) as Report;
    const { code, stdout, stderr } = prune('--method', 'wanda', '--calibration-tokens', first.calibrationPath!, '--out', join(dir, 'b.bin'));
    expect(code, stderr).toBe(0);
    const replay = JSON.parse(stdout) as Report;
    expect(replay.layers.map((layer) => layer.reconstructionError)).toEqual(first.layers.map((layer) => layer.reconstructionError));
    expect(readFileSync(join(dir, 'a.bin'))).toEqual(readFileSync(join(dir, 'b.bin')));
  });

  it('runs a third-party plugin pruner', () => {
    const plugin = resolve(repoRoot, 'test/fixtures/plugins/wanda-layerwise.mjs');
    const { code, stdout, stderr } = sculpt([
      '--json', '--plugin', plugin, 'prune', '--model', storiesModel, '--method', 'wanda-layerwise', '--calibration', 'c4',
      '--data-dir', sharedData, '--nsamples', '2', '--seqlen', '64', '--sparsity', '0.3', '--out', join(dir, 'plugin.bin'),
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.method).toBe('wanda-layerwise');
    expect(report.actualSparsity).toBeGreaterThanOrEqual(0.299);
    expect(report.actualSparsity).toBeLessThan(0.31);
  });

  it('rejects bad input with exit code 2', () => {
    const unknown = prune('--method', 'nope', '--calibration', 'c4', '--out', join(dir, 'x.bin'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('sparsegpt');

    const nm = prune('--method', 'wanda', '--sparsity', '0.7', '--pattern', '2:4', '--calibration', 'c4', '--out', join(dir, 'x.bin'));
    expect(nm.code).toBe(2);
    expect(nm.stderr).toContain('drop --sparsity 0.7');

    const noData = prune('--method', 'sparsegpt', '--out', join(dir, 'x.bin'));
    expect(noData.code).toBe(2);
    expect(noData.stderr).toContain('--calibration');

    const badSparsity = prune('--method', 'wanda', '--sparsity', '1.5', '--calibration', 'c4', '--out', join(dir, 'x.bin'));
    expect(badSparsity.code).toBe(2);
    expect(badSparsity.stderr).toContain('between 0 and 1');

    const badFormat = prune('--method', 'wanda', '--calibration', 'c4', '--format', 'cot', '--out', join(dir, 'x.bin'));
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('has no cot format');

    const badPrecision = prune('--method', 'sparsegpt', '--calibration', 'c4', '--hessian-precision', 'float16', '--out', join(dir, 'x.bin'));
    expect(badPrecision.code).toBe(2);
    expect(badPrecision.stderr).toContain('float32');
  });
});

describe('sculpt eval TASK', () => {
  it('reports accuracy with a Wilson interval', () => {
    const { code, stdout, stderr } = sculpt(['--json', 'eval', 'winogrande', '--model', storiesModel, '--data-dir', sharedData, '--limit', '2']);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { total: number; accuracy: number; lower: number; upper: number; decoding: string };
    expect(result.total).toBe(2);
    expect(result.decoding).toBe('greedy');
    expect(result.lower).toBeLessThanOrEqual(result.accuracy);
    expect(result.upper).toBeGreaterThanOrEqual(result.accuracy);
  });

  it('scores choices by log-likelihood', () => {
    const { code, stdout, stderr } = sculpt(['--json', 'eval', 'commonsense_qa', '--model', storiesModel, '--data-dir', sharedData, '--limit', '3', '--scoring', 'loglikelihood', '--items']);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { items: { prediction: string }[] };
    for (const item of result.items) expect(['A', 'B', 'C', 'D', 'E']).toContain(item.prediction);
  });

  it('auto scoring picks log-likelihood for choices', () => {
    const { code, stdout, stderr } = sculpt(['--json', 'eval', 'winogrande', '--model', storiesModel, '--data-dir', sharedData, '--limit', '2', '--scoring', 'auto']);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { scoring: string; decoding: string };
    expect(result.scoring).toBe('loglikelihood');
    expect(result.decoding).toBe('none');
  });

  it('rejects log-likelihood scoring without choices', () => {
    const { code, stderr } = sculpt(['eval', 'gsm8k', '--model', storiesModel, '--data-dir', sharedData, '--limit', '2', '--scoring', 'loglikelihood']);
    expect(code).toBe(2);
    expect(stderr).toContain('use generate or auto scoring');
  });

  it('names missing task data', () => {
    const { code, stderr } = sculpt(['eval', 'anli_r2', '--model', storiesModel, '--data-dir', sharedData]);
    expect(code).toBe(1);
    expect(stderr).toContain('no test data for task anli_r2');
  });
});
