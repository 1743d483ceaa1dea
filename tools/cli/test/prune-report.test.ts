/** The table `sculpt prune` prints: error columns always, the OBS loss column only for methods that compute it. */
import type { PruneRunResult } from '@sculpt/pruners';
import { describe, expect, it } from 'vitest';
import { humanReport } from '../src/commands/prune.js';

type Layer = PruneRunResult['layers'][number];

function layer(name: string, loss?: number): Layer {
  return {
    name,
    block: 0,
    outFeatures: 8,
    inFeatures: 4,
    targetSparsity: 0.5,
    sparsity: 0.5,
    reconstructionError: 1.5,
    relativeError: 0.025,
    loss,
    seconds: 0.01,
  };
}

function result(layers: Layer[], method: string): PruneRunResult {
  return {
    model: '/models/m.bin',
    method,
    methodOptions: {},
    targetSparsity: 0.5,
    pattern: null,
    hessianPrecision: 'float32',
    device: 'host',
    calibration: { source: 'file', datasets: [], format: null, nsamples: 4, seqlen: 32, seed: 0 },
    mode: 'faithful',
    propagateError: true,
    trueSequential: false,
    schedule: 'uniform',
    blockSparsities: [0.5],
    layers,
    actualSparsity: 0.5,
    sequences: 4,
    seconds: 1.25,
    output: '/out/pruned.bin',
    reportPath: '/out/pruned.bin.report.json',
    calibrationPath: '/out/pruned.bin.calibration.json',
    peakMemoryBytes: 64 * 2 ** 20,
  };
}

/** Splits the table (the lines before the first blank line) into its cells. */
function tableCells(text: string): string[][] {
  const table = text.slice(0, text.indexOf('\n\n'));
  return table.split('\n').map((line) => line.trim().split(/\s{2,}/));
}

describe('prune report table', () => {
  it('shows obs loss for sparsegpt', () => {
    const cells = tableCells(humanReport(result([layer('layers.0.self_attn.q_proj', 0.125), layer('layers.0.mlp.down_proj', 3)], 'sparsegpt')));
    expect(cells[0]).toEqual(['LAYER', 'SHAPE', 'SPARSITY', 'REL. ERROR', 'ERROR', 'OBS LOSS']);
    expect(cells[1]).toEqual(['layers.0.self_attn.q_proj', '8×4', '0.5000', '2.500e-2', '1.500e+0', '1.250e-1']);
    expect(cells[2][5]).toBe('3.000e+0');
  });

  it('omits obs loss for wanda', () => {
    const cells = tableCells(humanReport(result([layer('layers.0.self_attn.q_proj')], 'wanda')));
    expect(cells[0]).toEqual(['LAYER', 'SHAPE', 'SPARSITY', 'REL. ERROR', 'ERROR']);
    expect(cells[1]).toEqual(['layers.0.self_attn.q_proj', '8×4', '0.5000', '2.500e-2', '1.500e+0']);
  });

  it('marks layers without a loss', () => {
    const cells = tableCells(humanReport(result([layer('layers.0.a', 1), layer('layers.0.b')], 'mixed')));
    expect(cells[2][5]).toBe('-');
  });

  it('prints the run summary', () => {
    const text = humanReport(result([layer('layers.0.a')], 'wanda'));
    expect(text).toContain('actual sparsity:  0.500000 (target 0.5)');
    expect(text).toContain('peak memory:      64.0 MiB');
  });
});
