/**
 * Study cells and task evaluation on a device. A one-cell study on the real
 * stories260K model with the real C4, WikiText-2 and WinoGrande samples gives
 * the host path's perplexities, task scores and sparsities on each device.
 * `runEvalTask` reports the device its blocks ran on.
 *
 * The webgpu cases run on any adapter, lavapipe included. Without one they
 * are skipped, except when CI is set: then they fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry, ResultsStore } from '@sculpt/core';
import { plugins as datasetPlugins } from '@sculpt/datasets/plugins';
import { disposeDevices, probeWebGpuAdapter, type DeviceKind } from '@sculpt/runtime-gpu';
import { plugins } from '../src/plugins.js';
import { runEvalTask } from '../src/run/eval-run.js';
import { studyConfigSchema } from '../src/study/config.js';
import { runStudy, type CellResult } from '../src/study/runner.js';


const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sharedData = path.resolve(repoRoot, '../shared/data');
const modelPath = path.join(sharedData, 'models/stories260K/stories260K.bin');
const dir = mkdtempSync(path.join(tmpdir(), 'sculpt-study-device-'));
const probe = await probeWebGpuAdapter();
const kinds: DeviceKind[] = probe.adapter !== null || process.env.CI ? ['cpu', 'webgpu'] : ['cpu'];

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await disposeDevices();
});

function registry(): Registry {
  return new Registry({ manifests: [], entries: [...datasetPlugins, ...plugins] });
}

function checkAdapter(kind: DeviceKind | undefined): void {
  if (kind === 'webgpu' && probe.adapter === null) {
    throw new Error(`CI is set but no WebGPU adapter was found (${probe.reason}); install mesa-vulkan-drivers and libvulkan1`);
  }
}

/** Runs a dense cell and one Wanda cell; returns the cells' stored results by key. */
async function study(kind: DeviceKind | undefined): Promise<Map<string, CellResult>> {
  const config = studyConfigSchema.parse({
    model: modelPath,
    dataDir: sharedData,
    out: path.join(dir, kind ?? 'host'),
    calibration: ['c4'],
    formats: ['window'],
    methods: ['wanda'],
    sparsities: [0.5],
    nsamples: 2,
    seqlen: 32,
    tasks: ['winogrande'],
    taskLimit: 3,
    scoring: 'loglikelihood',
    perplexity: { dataset: 'wikitext2', split: 'validation', seqlen: 32, maxWindows: 2 },
    device: kind,
  });
  const summary = await runStudy({ config, registry: registry() });
  const store = ResultsStore.open(summary.store, { readonly: true });
  try {
    const results = store.units(summary.runId, 'done').map((unit) => unit.result as CellResult);
    return new Map(results.map((result) => [result.cell.key, result]));
  } finally {
    store.close();
  }
}

// The host run is the reference of every device, so it runs once.
let hostStudy: Promise<Map<string, CellResult>> | undefined;

describe.each(kinds)('study on %s', (kind) => {
  it('cells match host path', async () => {
    checkAdapter(kind);
    hostStudy ??= study(undefined);
    const host = await hostStudy;
    const onDevice = await study(kind);

    expect([...onDevice.keys()].sort()).toEqual([...host.keys()].sort());
    for (const [key, expected] of host) {
      const actual = onDevice.get(key)!;
      expect(actual.perplexity, `perplexity of ${key}`).not.toBeNull();
      expect(Math.abs(actual.perplexity! - expected.perplexity!) / expected.perplexity!, `perplexity of ${key}`).toBeLessThan(1e-3);
      expect(actual.tasks.winogrande.total, `winogrande items of ${key}`).toBe(3);
      expect(actual.tasks.winogrande.correct, `winogrande score of ${key}`).toBe(expected.tasks.winogrande.correct);
      expect(actual.actualSparsity, `sparsity of ${key}`).toBe(expected.actualSparsity);
    }
  });

  it('eval task reports device', async () => {
    checkAdapter(kind);
    const options = { registry: registry(), modelPath, task: 'winogrande', dataDir: sharedData, limit: 2, scoring: 'loglikelihood' as const };
    const host = await runEvalTask(options);
    const onDevice = await runEvalTask({ ...options, device: kind });
    expect(host.device).toBe('host');
    expect(onDevice.device).toBe(kind);
    expect(onDevice.items.map((item) => item.prediction)).toEqual(host.items.map((item) => item.prediction));
  });
});
