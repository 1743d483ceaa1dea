/**
 * One end-to-end pruning measurement in its own process, so its peak resident
 * memory belongs to that run alone. Reads a JSON `EndToEndSpec` from argv[2]
 * and prints one JSON `EndToEndMeasurement` line to stdout.
 */
import { Random, setLogLevel } from '@sculpt/core';
import { getDevice, loadModel, type Device } from '@sculpt/runtime-gpu';
import { createDeviceGemm, createSparseGptPruner, createWandaPruner, pruneModel, type Pruner } from '../src/index.js';
import { baselineSparseGpt, baselineWanda } from './baseline.js';
import { peakRssBytes, timeOnce } from './timing.js';

export interface EndToEndSpec {
  file: string;
  method: 'wanda' | 'sparsegpt';
  /** sculpt's pruner, or the baseline layer algorithms in the same pipeline. */
  implementation: 'sculpt' | 'baseline';
  /** `host` runs the default path (no device); `webgpu` runs the blocks and statistics there. */
  device: 'host' | 'webgpu';
  nsamples: number;
  seqlen: number;
  vocab: number;
}

export interface EndToEndMeasurement {
  seconds: number;
  /** Peak RSS of the whole process. */
  peakBytes: number;
  /** RSS before the model was loaded (Node, onnxruntime and Dawn already started). */
  startBytes: number;
  /** Largest ArrayBuffer + used JS heap bytes seen by a 50 ms sampler: memory the JavaScript side holds, garbage not yet collected included. */
  peakJsBytes: number;
  /** The same sum before the model was loaded. */
  startJsBytes: number;
}

/** ArrayBuffer memory (typed arrays, model weights) plus the used JS heap. */
function jsBytes(): number {
  const usage = process.memoryUsage();
  return usage.arrayBuffers + usage.heapUsed;
}

/** Wraps the baseline layer algorithms as a Pruner, so the pipeline around them is the same as sculpt's. */
function baselinePruner(kind: 'wanda' | 'sparsegpt'): Pruner {
  return {
    statistics: kind === 'wanda' ? ['rowScaler'] : ['hessian'],
    supportsPattern: false,
    async pruneLayer(layer) {
      const { rows, cols, data } = layer.weight;
      const pruned =
        kind === 'wanda'
          ? baselineWanda(data, rows, cols, layer.statistics.rowScaler!, layer.sparsity)
          : await baselineSparseGpt(data, rows, cols, layer.statistics.hessian!, layer.sparsity);
      return { weight: { rows, cols, data: pruned }, mask: { rows, cols, data: Uint8Array.from(pruned, (value) => (value === 0 ? 1 : 0)) } };
    },
  };
}

async function measure(spec: EndToEndSpec): Promise<EndToEndMeasurement> {
  setLogLevel('warn');
  let device: Device | undefined;
  if (spec.device === 'webgpu') device = await getDevice('webgpu');
  const gemm = createDeviceGemm(device);
  // Start onnxruntime before the first RSS reading, so that reading includes it.
  await createDeviceGemm(undefined, 0).subtractProduct(2, 2, 2, new Float64Array(4), 0, 2, new Float64Array(4), 0, 2, new Float64Array(4), 0, 2);

  const random = new Random(4);
  const sequences = Array.from({ length: spec.nsamples }, () => ({ tokens: Int32Array.from({ length: spec.seqlen }, () => random.int(0, spec.vocab - 1)) }));
  let pruner = baselinePruner(spec.method);
  if (spec.implementation === 'sculpt') pruner = spec.method === 'wanda' ? createWandaPruner() : createSparseGptPruner();
  const startBytes = process.memoryUsage().rss;
  const startJsBytes = jsBytes();
  let peakJsBytes = startJsBytes;
  // RSS also counts memory that glibc's allocator keeps after JavaScript frees it, so the JS side is sampled on its own.
  const sampler = setInterval(() => (peakJsBytes = Math.max(peakJsBytes, jsBytes())), 50);

  const milliseconds = await timeOnce(`end-to-end ${spec.method}`, async () => {
    const model = await loadModel(spec.file);
    try {
      if (device !== undefined) model.useDevice(device);
      await pruneModel(model, { pruner, sparsity: 0.5, sequences, gemm, device });
    } finally {
      await model.close();
    }
  });
  clearInterval(sampler);
  return { seconds: milliseconds / 1000, peakBytes: peakRssBytes(), startBytes, peakJsBytes, startJsBytes };
}

const spec = JSON.parse(process.argv[2]) as EndToEndSpec;
const measurement = await measure(spec);
process.stdout.write(`${JSON.stringify(measurement)}\n`);
process.exit(0);
