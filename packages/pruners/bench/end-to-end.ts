/**
 * End-to-end pruning of a random Llama-shaped model (`random-llama.ts`) with
 * Wanda and SparseGPT, sculpt against the baseline layer algorithms in the
 * same pipeline. Each run is a separate process (`end-to-end-child.ts`) so
 * its peak RSS is its own.
 *
 * The memory bound is the model's float32 size + 2 blocks + one copy of the
 * calibration activations (nsamples × seqlen × dim floats). The measured
 * figure is the peak RSS minus the RSS before the model was loaded, so Node,
 * onnxruntime and Dawn themselves are not counted. A second figure samples
 * the memory held on the JavaScript side (ArrayBuffers + used heap), which
 * leaves out what the C allocator keeps after JavaScript frees it. On lavapipe the "device"
 * buffers are host memory, so webgpu runs count them too.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRecord } from '@sculpt/core';
import type { EndToEndMeasurement, EndToEndSpec } from './end-to-end-child.js';
import { blockParameters, llamaShape, modelParameters, writeRandomLlama } from './random-llama.js';
import { listFromEnv, MIB } from './timing.js';

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'end-to-end-child.ts');

/** Runs one measurement in a child Node process with this process's loader flags (tsx). */
function runChild(spec: EndToEndSpec): Promise<EndToEndMeasurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, childScript, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`end-to-end child for ${spec.method} ${spec.implementation} on ${spec.device} exited with code ${code}`));
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(line) as EndToEndMeasurement);
    });
  });
}

export interface EndToEndSize {
  scale: number;
  nsamples: number;
  seqlen: number;
}

/** Sizes 32 × 512 calibration tokens for the 110M shape, every dimension times `scale`. */
export function endToEndSize(scale: number): EndToEndSize {
  return { scale, nsamples: Math.max(1, Math.round(32 * scale)), seqlen: Math.max(16, Math.round(512 * scale)) };
}

export async function runEndToEndCases(records: BenchRecord[], device: 'host' | 'webgpu', size: EndToEndSize): Promise<void> {
  const shape = llamaShape(size.scale, Math.max(512, size.seqlen));
  const dir = await mkdtemp(path.join(tmpdir(), 'sculpt-bench-'));
  const file = path.join(dir, 'random-llama.bin');
  const deviceName = device === 'host' ? 'cpu' : 'webgpu';
  try {
    await writeRandomLlama(file, shape);
    const boundBytes = 4 * (modelParameters(shape) + 2 * blockParameters(shape) + size.nsamples * size.seqlen * shape.dim);
    const label = `${shape.layers}-block llama dim ${shape.dim} hidden ${shape.hidden} (${(modelParameters(shape) / 1e6).toFixed(1)}M params), ${size.nsamples}x${size.seqlen} tokens`;
    const details = { ...shape, parameters: modelParameters(shape), nsamples: size.nsamples, seqlen: size.seqlen };

    // SCULPT_BENCH_METHODS repeats one of the long runs alone.
    const methods = listFromEnv('SCULPT_BENCH_METHODS', ['wanda', 'sparsegpt'], ['wanda', 'sparsegpt']) as ('wanda' | 'sparsegpt')[];
    for (const method of methods) {
      const common = { file, method, device, nsamples: size.nsamples, seqlen: size.seqlen, vocab: shape.vocab };
      const ours = await runChild({ ...common, implementation: 'sculpt' });
      const baseline = await runChild({ ...common, implementation: 'baseline' });
      const usedBytes = ours.peakBytes - ours.startBytes;
      const baselineUsedBytes = baseline.peakBytes - baseline.startBytes;

      records.push({ case: `end-to-end ${method}, ${label}`, device: deviceName, value: ours.seconds, unit: 's', baseline: baseline.seconds, ratio: baseline.seconds / ours.seconds, ...details });
      records.push({
        case: `end-to-end ${method} memory, ${label}`,
        device: deviceName,
        value: usedBytes / MIB,
        unit: 'MiB',
        baseline: baselineUsedBytes / MIB,
        ratio: baselineUsedBytes / usedBytes,
        boundMiB: boundBytes / MIB,
        withinBound: usedBytes <= boundBytes,
        peakRssMiB: ours.peakBytes / MIB,
        startRssMiB: ours.startBytes / MIB,
        jsMiB: (ours.peakJsBytes - ours.startJsBytes) / MIB,
        baselineJsMiB: (baseline.peakJsBytes - baseline.startJsBytes) / MIB,
        jsWithinBound: ours.peakJsBytes - ours.startJsBytes <= boundBytes,
      });
      console.error(
        `${deviceName} end-to-end ${method}: ${ours.seconds.toFixed(2)} s vs ${baseline.seconds.toFixed(2)} s; ` +
          `memory ${(usedBytes / MIB).toFixed(1)} MiB above start (bound ${(boundBytes / MIB).toFixed(1)} MiB: ${usedBytes <= boundBytes ? 'holds' : 'exceeded'}), ` +
          `JavaScript-held ${((ours.peakJsBytes - ours.startJsBytes) / MIB).toFixed(1)} MiB`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
