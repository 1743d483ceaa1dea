/**
 * Per-layer cost of Wanda and SparseGPT: the statistics of `tokens`
 * calibration tokens (in 512-token sequences) plus the pruning of one
 * rows×cols weight, against the straightforward baseline of `baseline.ts`
 * run in the same process on the host.
 *
 * On `cpu` sculpt's host path runs (float64 row scaler, float32 Hessian as in a
 * pruning run, onnxruntime products).
 * On `webgpu` the statistics accumulate on the device from uploaded inputs
 * and SparseGPT's inverse-Hessian factor comes from the device.
 */
import type { BenchRecord } from '@sculpt/core';
import { Random } from '@sculpt/core';
import type { Device } from '@sculpt/runtime-gpu';
import { createDeviceGemm, HessianAccumulator, RowScaler, selectPerRow, sparseGpt, wandaScore } from '../src/index.js';
import { LayerCollector } from '../src/pipeline/statistics.js';
import { baselineHessian, baselineScaler, baselineSparseGpt, baselineWanda } from './baseline.js';
import { MIB, peakRssBytes, timePair } from './timing.js';

const SEQUENCE = 512;

export interface LayerShape {
  rows: number;
  cols: number;
  tokens: number;
}

/** Scales the Llama-7B layer shapes 4096×4096 and 4096×11008 with 16,384 tokens by `scale` in every dimension. */
export function layerShapes(scale: number): LayerShape[] {
  const d = Math.round(4096 * scale);
  const ffn = Math.round(11008 * scale);
  const tokens = Math.max(SEQUENCE, Math.round((16384 * scale) / SEQUENCE) * SEQUENCE);
  return [
    { rows: d, cols: d, tokens },
    { rows: d, cols: ffn, tokens },
  ];
}

function randomMatrix(length: number, random: Random): Float32Array {
  return Float32Array.from({ length }, () => random.normal());
}

/** Computes Wanda's scaler or SparseGPT's Hessian with sculpt's collectors on `device`, or with the float64 host ones. */
async function sculptStatistics(kind: 'rowScaler' | 'hessian', inputs: Float32Array[], cols: number, device: Device | undefined): Promise<Float32Array | Float64Array> {
  if (device === undefined) {
    if (kind === 'rowScaler') {
      const scaler = new RowScaler(cols);
      for (const x of inputs) scaler.addBatch({ tokens: SEQUENCE, features: cols, data: x });
      return scaler.values;
    }
    const hessian = new HessianAccumulator(cols, createDeviceGemm(), 'float32');
    for (const x of inputs) await hessian.addBatch({ tokens: SEQUENCE, features: cols, data: x });
    return hessian.values;
  }
  const collector = new LayerCollector(cols, [kind], { device });
  for (const x of inputs) await collector.add(x, SEQUENCE, cols, undefined);
  await collector.finish();
  const result = collector.result();
  return kind === 'rowScaler' ? result.rowScaler! : result.hessian!;
}

/** Runs both methods once on a small layer, so shader compilation is not timed in the first case. */
async function warmUp(device: Device, random: Random): Promise<void> {
  const cols = 256;
  const weight = { rows: 64, cols, data: randomMatrix(64 * cols, random) };
  const inputs = [randomMatrix(SEQUENCE * cols, random)];
  selectPerRow(wandaScore(weight, await sculptStatistics('rowScaler', inputs, cols, device)), 0.5);
  await sparseGpt(weight, await sculptStatistics('hessian', inputs, cols, device), { sparsity: 0.5, gemm: createDeviceGemm(device), factorDevice: device });
}

export async function runLayerCases(records: BenchRecord[], deviceName: string, device: Device | undefined, shapes: LayerShape[]): Promise<void> {
  const random = new Random(1);
  const gemm = createDeviceGemm(device);
  if (device !== undefined) await warmUp(device, new Random(7));
  for (const { rows, cols, tokens } of shapes) {
    const weight = randomMatrix(rows * cols, random);
    const inputs = Array.from({ length: tokens / SEQUENCE }, () => randomMatrix(SEQUENCE * cols, random));
    const label = `${rows}x${cols}, ${tokens} tokens`;
    const sizes = { rows, cols, tokens };

    const wanda = await timePair(
      `wanda ${label}`,
      async () => selectPerRow(wandaScore({ rows, cols, data: weight }, await sculptStatistics('rowScaler', inputs, cols, device)), 0.5),
      async () => baselineWanda(weight, rows, cols, baselineScaler(inputs, SEQUENCE, cols), 0.5),
    );
    records.push({ case: `wanda layer ${label}`, device: deviceName, value: wanda.ours / 1000, unit: 's', baseline: wanda.baseline / 1000, ratio: wanda.baseline / wanda.ours, ...sizes });

    const sparse = await timePair(
      `sparsegpt ${label}`,
      async () => sparseGpt({ rows, cols, data: weight }, await sculptStatistics('hessian', inputs, cols, device), { sparsity: 0.5, gemm, factorDevice: device }),
      async () => baselineSparseGpt(weight, rows, cols, await baselineHessian(inputs, SEQUENCE, cols), 0.5),
    );
    records.push({ case: `sparsegpt layer ${label}`, device: deviceName, value: sparse.ours / 1000, unit: 's', baseline: sparse.baseline / 1000, ratio: sparse.baseline / sparse.ours, ...sizes });
    records.push({ case: `peak RSS after ${label} layers`, device: deviceName, value: peakRssBytes() / MIB, unit: 'MiB', baseline: null, ratio: null });
    console.error(
      `${deviceName} ${label}: wanda ${(wanda.ours / 1000).toFixed(2)} s vs ${(wanda.baseline / 1000).toFixed(2)} s, sparsegpt ${(sparse.ours / 1000).toFixed(2)} s vs ${(sparse.baseline / 1000).toFixed(2)} s`,
    );
  }
}
