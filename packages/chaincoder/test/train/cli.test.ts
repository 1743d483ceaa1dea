/**
 * `sculpt chaincoder train`, `generate` and `eval` as a user runs them: real
 * child processes of the CLI on a tiny model. One training process is killed
 * with SIGKILL after its first checkpoint and resumed; its final weights must
 * equal those of an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultsStore } from '@sculpt/core';
import { CLI, ROOT, sculpt, sculptJson } from '../fixtures/cli.js';

const STEPS = 6;

const DATA = ['--data', 'generated-stdin', '--set', 'count=60'];
const TINY = ['--dim', '16', '--heads', '2', '--hidden-dim', '32', '--sample-layers', '1', '--description-layers', '1', '--encoder-layers', '1', '--decoder-layers', '1', '--max-target-length', '400'];
const TRAIN = [...DATA, ...TINY, '--batch-size', '4', '--lr', '5e-3', '--warmup', '2', '--checkpoint-every', '2', '--validate-every', '2'];

/** Training losses by step from results.sqlite; a step recorded again after a resume keeps its last value. */
function trainLosses(out: string): Map<number, number> {
  const store = ResultsStore.open(join(out, 'results.sqlite'), { readonly: true });
  try {
    const losses = new Map<number, number>();
    for (const run of store.listRuns({ kind: 'chaincoder-train' })) {
      for (const metric of store.metrics(run.id, { name: 'train/loss' })) losses.set(metric.step!, metric.value);
    }
    return losses;
  } finally {
    store.close();
  }
}

describe('chaincoder CLI', () => {
  let dir: string;
  let straight: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chaincoder-cli-'));
    straight = join(dir, 'straight');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains and writes run outputs', async () => {
    const report = sculptJson(['chaincoder', 'train', ...TRAIN, '--steps', String(STEPS), '--out', straight]);
    expect(report.steps).toBe(STEPS);
    expect(report.device).toBe('cpu');
    expect(report.lastLoss as number).toBeLessThan(report.firstLoss as number);
    const validation = report.validation as { loss: number; segments: Record<string, { accuracy: number }> };
    expect(Number.isFinite(validation.loss)).toBe(true);
    expect(Object.keys(validation.segments)).toEqual(['S1', 'S2', 'S3', 'S4']);

    for (const file of ['checkpoint/weights.safetensors', 'checkpoint/optimizer.safetensors', 'checkpoint/state.json', 'cooccurrence.json']) {
      expect(existsSync(join(straight, file)), file).toBe(true);
    }
    const svg = await readFile(join(straight, 'loss-curve.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('optimizer step');

    const store = ResultsStore.open(join(straight, 'results.sqlite'), { readonly: true });
    const [run] = store.listRuns({ kind: 'chaincoder-train' });
    expect(run.status).toBe('done');
    expect(store.metrics(run.id, { name: 'train/loss' })).toHaveLength(STEPS);
    // Validation after steps 2 and 4 and at the end.
    expect(store.metrics(run.id, { name: 'validation/loss' }).map((metric) => metric.step)).toEqual([2, 4, 6]);
    expect(store.metrics(run.id, { name: 'validation/S3/accuracy' })).toHaveLength(3);
    store.close();
    expect(trainLosses(straight).size).toBe(STEPS);
  }, 120_000);

  it('resumes after SIGKILL exactly', async () => {
    const killed = join(dir, 'killed');
    // A long run, killed as soon as its first checkpoint exists.
    const child = spawn(process.execPath, [CLI, 'chaincoder', 'train', ...TRAIN, '--steps', '200', '--out', killed], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    const state = join(killed, 'checkpoint', 'state.json');
    while (!existsSync(state) && child.exitCode === null) await new Promise((wait) => setTimeout(wait, 20));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const checkpointStep = (JSON.parse(await readFile(state, 'utf8')) as { step: number }).step;
    expect(checkpointStep).toBeLessThan(STEPS);

    const report = sculptJson(['chaincoder', 'train', ...TRAIN, '--steps', String(STEPS), '--out', killed, '--resume']);
    expect(report.resumedFromStep).toBe(checkpointStep);
    expect(report.steps).toBe(STEPS);

    const [resumedWeights, straightWeights] = await Promise.all([readFile(join(killed, 'checkpoint/weights.safetensors')), readFile(join(straight, 'checkpoint/weights.safetensors'))]);
    expect(resumedWeights.equals(straightWeights)).toBe(true);
    const [resumedMoments, straightMoments] = await Promise.all([readFile(join(killed, 'checkpoint/optimizer.safetensors')), readFile(join(straight, 'checkpoint/optimizer.safetensors'))]);
    expect(resumedMoments.equals(straightMoments)).toBe(true);
    expect([...trainLosses(killed)].filter(([step]) => step < STEPS)).toEqual([...trainLosses(straight)]);

    // The killed run is taken over, not duplicated.
    const store = ResultsStore.open(join(killed, 'results.sqlite'), { readonly: true });
    const runs = store.listRuns({ kind: 'chaincoder-train' });
    store.close();
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe('done');
    expect(runs[0].attempts).toBe(2);
  }, 120_000);

  it('generates and evaluates with the model', async () => {
    const problems = join(dir, 'problems.jsonl');
    sculptJson(['chaincoder', 'problems', ...DATA, '--split', 'test', '--out', problems]);

    const generated = sculptJson(['chaincoder', 'generate', '--model', straight, '--problem', problems, '--n', '2', '--decoder', 'coarse-to-fine', '--max-new-tokens', '48']);
    const results = generated.results as { problem: string; programs: (string | null)[]; failures: (string | null)[] }[];
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) {
      expect(result.programs).toHaveLength(2);
      expect(result.failures).toHaveLength(2);
    }

    const report = sculptJson(['chaincoder', 'eval', '--model', straight, ...DATA, '--split', 'test', '--n', '2', '--k', '1,2', '--decoder', 'sample', '--max-new-tokens', '48']);
    expect(report.problems).toBe(results.length);
    expect(report.samplesPerProblem).toBe(2);
    expect(Object.keys(report.passAtK as object)).toEqual(['pass@1', 'pass@2']);
    expect(report.candidates).toBe(results.length * 2);
    expect(report.decodabilityRate as number).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('skips problems without I/O examples in eval', async () => {
    // Among the first 20 HumanEval problems of the sample, one has no doctest example to prompt the model with.
    const humaneval = resolve(ROOT, '../shared/data/humaneval/HumanEval.sample.jsonl');
    const report = sculptJson(['chaincoder', 'eval', '--model', straight, '--data', 'humaneval', '--data-file', humaneval, '--split', 'test', '--limit', '20', '--n', '1', '--k', '1', '--decoder', 'greedy', '--max-new-tokens', '24']);
    expect(report.skipped).toBeGreaterThanOrEqual(1);
    expect((report.problems as number) + (report.skipped as number)).toBe(20);
  }, 180_000);

  it('trains on mixed datasets with accumulation', async () => {
    const humaneval = resolve(ROOT, '../shared/data/humaneval/HumanEval.sample.jsonl');
    const mixed = join(dir, 'mixed');
    const data = ['--data', 'generated-stdin:count=30', '--data', `humaneval:files=${humaneval}:resplit=0.2`];
    const report = sculptJson(['chaincoder', 'train', ...data, ...TINY, '--batch-size', '2', '--accumulate', '2', '--steps', '1', '--out', mixed]);
    // HumanEval's problems are all in its test split, so only resplit brings them into training.
    expect(report.trainProblems as number).toBeGreaterThan(60);
    expect(report.steps).toBe(1);
    const state = JSON.parse(await readFile(join(mixed, 'checkpoint', 'state.json'), 'utf8')) as { run: { settings: Record<string, unknown> }; config: Record<string, unknown> };
    expect(state.run.settings.accumulate).toBe(2);
    expect(state.run.settings.data).toEqual(['generated-stdin:count=30', `humaneval:files=${humaneval}:resplit=0.2`]);
    expect(state.config.descriptionPooling).toBe('first-last-max-min');
  }, 180_000);

  it('rejects bad training flags', () => {
    const f16 = sculpt(['chaincoder', 'train', ...TRAIN, '--f16', '--steps', '1', '--out', join(dir, 'f16-on-cpu')]);
    expect(f16.status).toBe(2);
    expect(f16.stderr).toContain('f16 activations need a webgpu device with the shader-f16 feature');

    const badSpec = sculpt(['chaincoder', 'train', '--data', 'apps:dataDir', '--steps', '1', '--out', join(dir, 'bad-spec')]);
    expect(badSpec.status).toBe(2);
    expect(badSpec.stderr).toContain('expected KEY=VALUE after "apps:", got "dataDir"');

    const zero = sculpt(['chaincoder', 'train', ...TRAIN, '--accumulate', '0', '--steps', '1', '--out', join(dir, 'zero')]);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('--accumulate must be a positive integer');
  }, 120_000);

  it('rejects bad input', () => {
    const existing = sculpt(['chaincoder', 'train', ...TRAIN, '--steps', '2', '--out', straight]);
    expect(existing.status).toBe(2);
    expect(existing.stderr).toContain('already contains a checkpoint');

    const missing = sculpt(['chaincoder', 'generate', '--model', join(dir, 'nothing'), '--problem', join(dir, 'problems.jsonl')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no ChainCoder checkpoint found');

    const tooFew = sculpt(['chaincoder', 'eval', '--model', straight, ...DATA, '--n', '2', '--k', '5']);
    expect(tooFew.status).toBe(2);
    expect(tooFew.stderr).toContain('exceeds --n 2');
  }, 120_000);
});
