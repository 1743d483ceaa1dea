import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseRunConfigShape, configHash, flagsToConfig, loadConfig, resolveConfig } from '../config/config.js';
import { readRunManifest, writeRunManifest } from '../config/manifest.js';
import { AbortError, UsageError } from '../errors.js';
import { setLogSink, setLogLevel, stderrSink, type LogRecord } from '../logger.js';
import { definePlugin, type Plugin } from '../plugin.js';
import { LineProgressReporter } from '../progress/lines.js';
import { Registry } from '../registry/registry.js';
import type { RunContext } from './context.js';
import type { PipelineEvent } from './events.js';
import { pipeline, runPipeline, step } from './pipeline.js';
import { executeRun, progressListener } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'sculpt-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FakeModel {
  layers: number[][];
}

/** A pruner for tests: zeroes the smallest-magnitude fraction of every layer, one layer per unit of work. */
interface FakePruner {
  pruneLayer(weights: number[]): number[];
}

const fakePruner = definePlugin({
  meta: {
    name: 'fake-magnitude',
    kind: 'pruner',
    version: '0.1.0',
    description: 'test pruner',
    options: z.object({ sparsity: z.number().min(0).max(1) }),
  },
  create: ({ sparsity }): FakePruner => ({
    pruneLayer: (weights) => {
      const cut = Math.floor(weights.length * sparsity);
      const threshold = [...weights].map(Math.abs).sort((a, b) => a - b)[cut - 1] ?? -1;
      return weights.map((w) => (Math.abs(w) <= threshold ? 0 : w));
    },
  }),
});

function pruneStudy(registry: Registry, counters: { layersPruned: number }) {
  const load = step('load-model', (path: string): FakeModel => ({
    layers: path === 'tiny' ? [[1, -2, 3, -4], [0.5, 0.1, -0.3, 0.2], [9, 8, 7, 6], [1, 1, 2, 2], [5, -5, 4, -4]] : [],
  }));
  const calibrate = step('calibrate', (model: FakeModel, context) => {
    const random = context.random('calibration');
    return { model, samples: [random.int(0, 99), random.int(0, 99)] };
  });
  const prune = step('prune', async (input: { model: FakeModel; samples: number[] }, context) => {
    const pruner = (await registry.create('pruner', 'fake-magnitude', context.run.config.prune)) as FakePruner;
    const layers: number[][] = [];
    for (const [i, weights] of input.model.layers.entries()) {
      layers.push(pruner.pruneLayer(weights));
      counters.layersPruned += 1;
      context.progress(i + 1, input.model.layers.length, 'layers');
    }
    context.log.info('pruned', { layers: layers.length });
    return { layers };
  });
  const evaluate = step('evaluate', (model: FakeModel) => ({
    sparsity: model.layers.flat().filter((w) => w === 0).length / model.layers.flat().length,
  }));
  return pipeline('study', [load, pipeline('compress', [calibrate, prune]), evaluate]);
}

async function setup() {
  const registry = new Registry({ manifests: [], entries: [] });
  await registry.use(fakePruner as Plugin);
  return registry;
}

const run: RunContext = { config: { prune: { sparsity: 0.5 } }, seed: 1, device: 'cpu' };

describe('pipeline', () => {
  it('emits events in order', async () => {
    const counters = { layersPruned: 0 };
    const events: PipelineEvent[] = [];
    const records: LogRecord[] = [];
    setLogSink((record) => records.push(record));
    setLogLevel('info');
    let result;
    try {
      result = await runPipeline(pruneStudy(await setup(), counters), 'tiny', run, { onEvent: (event) => events.push(event) });
    } finally {
      setLogSink(stderrSink);
      setLogLevel('silent');
    }
    expect(result).toEqual({ sparsity: 0.5 });
    const trace = events.map((event) =>
      event.type === 'progress' ? `progress ${event.step} ${event.done}/${event.total} ${event.unit}` : `${event.type} ${event.step}`,
    );
    expect(trace).toEqual([
      'step-start study',
      'step-start study/load-model',
      'step-end study/load-model',
      'step-start study/compress',
      'step-start study/compress/calibrate',
      'step-end study/compress/calibrate',
      'step-start study/compress/prune',
      'progress study/compress/prune 1/5 layers',
      'progress study/compress/prune 2/5 layers',
      'progress study/compress/prune 3/5 layers',
      'progress study/compress/prune 4/5 layers',
      'progress study/compress/prune 5/5 layers',
      'log study/compress/prune',
      'step-end study/compress/prune',
      'step-end study/compress',
      'step-start study/evaluate',
      'step-end study/evaluate',
      'step-end study',
    ]);
    expect(records.map((record) => record.scope)).toEqual(['pipeline:study/compress/prune']);
  });

  it('stops between units on abort', async () => {
    const counters = { layersPruned: 0 };
    const controller = new AbortController();
    const events: PipelineEvent[] = [];
    const outputDir = join(dir, 'aborted');
    const running = executeRun(pruneStudy(await setup(), counters), 'tiny', { ...run, outputDir }, {
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'progress' && event.done === 2) controller.abort();
      },
    });
    await expect(running).rejects.toBeInstanceOf(AbortError);
    expect(counters.layersPruned).toBe(2);
    expect(events.some((event) => event.type === 'step-start' && event.step === 'study/evaluate')).toBe(false);
    expect(events.filter((event) => event.type === 'error')).toEqual([
      expect.objectContaining({ step: 'study/compress/prune', aborted: true }),
    ]);
    const manifest = await readRunManifest(outputDir);
    expect(manifest.status).toBe('aborted');
  });

  it('writes a manifest after a run', async () => {
    const outputDir = join(dir, 'done');
    const output = await executeRun(pruneStudy(await setup(), { layersPruned: 0 }), 'tiny', { ...run, outputDir }, {
      device: { kind: 'cpu', description: 'test machine' },
      seeds: { calibration: 7 },
    });
    expect(output).toEqual({ sparsity: 0.5 });
    const manifest = await readRunManifest(outputDir);
    expect(manifest.status).toBe('done');
    expect(manifest.config).toEqual(run.config);
    expect(manifest.seeds).toEqual({ run: 1, calibration: 7 });
    expect(manifest.device).toEqual({ kind: 'cpu', description: 'test machine' });
    expect(manifest.extra).toEqual({ pipeline: 'study' });
    expect(manifest.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a failing step once', async () => {
    const events: PipelineEvent[] = [];
    const failing = pipeline('outer', [
      pipeline('inner', [step('boom', (): number => {
        throw new Error('kaput');
      })]),
      step('after', (value: number) => value + 1),
    ]);
    await expect(runPipeline(failing, undefined, run, { onEvent: (event) => events.push(event) })).rejects.toThrow('kaput');
    expect(events.filter((event) => event.type === 'error').map((event) => event.step)).toEqual(['outer/inner/boom']);
  });

  it('derives named random streams from the seed', async () => {
    const draw = step('draw', (_: undefined, context) => [context.random('a').nextUint32(), context.random('b').nextUint32()]);
    const first = await runPipeline(draw, undefined, run);
    const again = await runPipeline(draw, undefined, run);
    const otherSeed = await runPipeline(draw, undefined, { ...run, seed: 2 });
    expect(again).toEqual(first);
    expect(first[0]).not.toBe(first[1]);
    expect(otherSeed).not.toEqual(first);
  });

  it('rejects duplicate step names', () => {
    const a = step('same', (x: number) => x);
    expect(() => pipeline('p', [a, a])).toThrow('two steps named "same"');
  });

  it('checks step types at compile time', () => {
    const toText = step('to-text', (x: number) => String(x));
    const double = step('double', (x: number) => x * 2);
    // @ts-expect-error: "double" takes a number but "to-text" returns a string.
    pipeline('mismatch', [toText, double]);
    const ok = pipeline('ok', [double, toText]);
    expect(ok.steps.map((s) => s.name)).toEqual(['double', 'to-text']);
  });

  it('feeds progress to a reporter', async () => {
    const records: LogRecord[] = [];
    setLogSink((record) => records.push(record));
    setLogLevel('info');
    try {
      const reporter = new LineProgressReporter({ everyPercent: 50, everySeconds: 1e9, now: () => 0 });
      await runPipeline(pruneStudy(await setup(), { layersPruned: 0 }), 'tiny', run, { onEvent: progressListener(reporter) });
    } finally {
      setLogSink(stderrSink);
      setLogLevel('silent');
    }
    expect(records.filter((r) => r.scope === 'progress').map((r) => r.message)).toEqual([
      'study/compress/prune: 3/5 layers (60%, 0.0 s)',
      'study/compress/prune: 5/5 layers (100%, 0.0 s)',
      'study/compress/prune: 5/5 layers (done, 0.0 s)',
    ]);
  });
});

const studySchema = z.object({
  ...baseRunConfigShape,
  model: z.string(),
  prune: z.object({
    method: z.string().default('wanda'),
    sparsity: z.number().min(0).max(1).default(0.5),
    pattern: z.enum(['unstructured', '2:4', '4:8']).default('unstructured'),
  }),
  tasks: z.array(z.string()).default(['piqa']),
});

describe('run config', () => {
  it('merges defaults, file and flags in order', async () => {
    const file = join(dir, 'study.json');
    writeFileSync(file, JSON.stringify({ model: 'stories260K', seed: 3, prune: { method: 'sparsegpt', sparsity: 0.6 } }));
    const flags = flagsToConfig({ sparsity: 0.7, pattern: undefined, tasks: ['boolq'] }, {
      sparsity: 'prune.sparsity',
      pattern: 'prune.pattern',
      tasks: 'tasks',
    });
    const config = await resolveConfig(studySchema, { defaults: { tasks: ['piqa', 'arc'] }, file, flags });
    expect(config).toEqual({
      seed: 3,
      device: 'auto',
      model: 'stories260K',
      prune: { method: 'sparsegpt', sparsity: 0.7, pattern: 'unstructured' },
      tasks: ['boolq'],
    });
  });

  it('round-trips through the run manifest', async () => {
    const config = await resolveConfig(studySchema, { flags: { model: 'stories260K', prune: { sparsity: 0.25 } } });
    const outputDir = join(dir, 'round-trip');
    const startedAt = new Date('2026-01-02T03:04:05Z');
    await writeRunManifest(outputDir, {
      resolvedConfig: config,
      device: { kind: 'cpu', description: 'test' },
      seeds: { run: config.seed },
      startedAt,
      endedAt: new Date(startedAt.getTime() + 1500),
    });
    const manifest = await readRunManifest(outputDir);
    expect(manifest.config).toEqual(config);
    expect(manifest.durationMs).toBe(1500);
    expect(manifest.status).toBe('done');
    expect(manifest.versions.node).toBe(process.versions.node);
    expect(manifest.versions.packages['@sculpt/core']).toMatch(/^\d+\.\d+\.\d+/);
    expect(manifest.versions.packages['onnxruntime-node']).toBe('1.31.1');

    // Replaying: the saved config validates to the same config and hash.
    const replayed = await resolveConfig(studySchema, { flags: manifest.config as Record<string, unknown> });
    expect(replayed).toEqual(config);
    expect(configHash(replayed)).toBe(manifest.configHash);
    expect(readFileSync(join(outputDir, 'run-manifest.json'), 'utf8')).toContain('"format": "sculpt-run-manifest/1"');
  });

  it('hashes independently of key order', () => {
    expect(configHash({ a: 1, b: { c: 2, d: 3 } })).toBe(configHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
  });

  it('names file and key on invalid config', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ model: 'm', prune: { sparsity: 2, patern: '2:4' } }));
    const error = await loadConfig(file, studySchema).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(`Invalid config ${file}:`);
    expect((error as Error).message).toContain('prune.sparsity: got 2, expected a value <= 1');
    expect((error as Error).message).toContain('unknown option "prune.patern" (allowed: method, sparsity, pattern)');
  });

  it('reports malformed JSON with the file', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"model": ');
    await expect(loadConfig(file, studySchema)).rejects.toThrow(`${file}: invalid JSON in the config file`);
    await expect(loadConfig(join(dir, 'none.json'), studySchema)).rejects.toThrow('config file not found');
  });

  it('refuses configs JSON cannot store', async () => {
    await expect(
      writeRunManifest(join(dir, 'nan'), { resolvedConfig: { lr: Number.NaN }, device: { kind: 'cpu' }, seeds: {}, startedAt: new Date() }),
    ).rejects.toThrow('run config lr is NaN');
  });
});
