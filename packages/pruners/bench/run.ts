/**
 * Pruning benchmarks: per-layer cost of Wanda and SparseGPT, and end-to-end
 * pruning of a random 110M-parameter-shaped Llama, on cpu and webgpu. Each
 * case runs sculpt and the straightforward baseline (`baseline.ts`) in the
 * same run and reports baseline time / sculpt time (above 1 = sculpt faster).
 *
 * Full sizes (scale 1): 4096×4096 and 4096×11008 weights with 16,384
 * calibration tokens, and a 12-block Llama (dim 768, 12 heads, hidden 2048,
 * vocabulary 32,000) pruned with 32 × 512 tokens.
 *
 * Environment:
 * - SCULPT_BENCH_SCALE (default 0.25) scales every cpu dimension and token count.
 * - SCULPT_BENCH_WEBGPU_SCALE (default 0.1) does the same for webgpu, which
 *   on a software adapter such as lavapipe is far slower than the CPU path.
 * - SCULPT_BENCH_DEVICES (default "cpu,webgpu") picks the devices; webgpu is
 *   skipped with a message when no adapter exists.
 * - SCULPT_BENCH_CASES (default "layers,end-to-end") picks the case groups.
 * - SCULPT_BENCH_METHODS (default "wanda,sparsegpt") picks the end-to-end methods.
 *
 * Run: npm run bench -w @sculpt/pruners (merges into bench-results/pruners.json).
 */
import { formatBenchTable, mergeBenchRecords, setLogLevel, type BenchRecord } from '@sculpt/core';
import { getDevice, probeWebGpuAdapter } from '@sculpt/runtime-gpu';
import { createDeviceGemm } from '../src/index.js';
import { endToEndSize, runEndToEndCases } from './end-to-end.js';
import { layerShapes, runLayerCases } from './layer-cases.js';
import { listFromEnv, scaleFromEnv } from './timing.js';

async function main(): Promise<void> {
  setLogLevel('warn');
  const cpuScale = scaleFromEnv('SCULPT_BENCH_SCALE', 0.25);
  const webgpuScale = scaleFromEnv('SCULPT_BENCH_WEBGPU_SCALE', 0.1);
  const devices = listFromEnv('SCULPT_BENCH_DEVICES', ['cpu', 'webgpu'], ['cpu', 'webgpu']);
  const groups = listFromEnv('SCULPT_BENCH_CASES', ['layers', 'end-to-end'], ['layers', 'end-to-end']);

  // Start onnxruntime once so neither side of the first case pays for it.
  await createDeviceGemm(undefined, 0).subtractProduct(2, 2, 2, new Float64Array(4), 0, 2, new Float64Array(4), 0, 2, new Float64Array(4), 0, 2);
  const records: BenchRecord[] = [];

  if (devices.includes('cpu')) {
    console.error(`cpu cases at scale ${cpuScale}`);
    if (groups.includes('layers')) await runLayerCases(records, 'cpu', undefined, layerShapes(cpuScale));
    if (groups.includes('end-to-end')) await runEndToEndCases(records, 'host', endToEndSize(cpuScale));
  }

  if (devices.includes('webgpu')) {
    const probe = await probeWebGpuAdapter();
    if (probe.adapter === null) {
      console.error(`webgpu cases skipped: no adapter (${probe.reason})`);
    } else {
      console.error(`webgpu cases at scale ${webgpuScale} on ${probe.adapter.description || probe.adapter.vendor}`);
      if (groups.includes('layers')) await runLayerCases(records, 'webgpu', await getDevice('webgpu'), layerShapes(webgpuScale));
      if (groups.includes('end-to-end')) await runEndToEndCases(records, 'webgpu', endToEndSize(webgpuScale));
    }
  }

  const file = await mergeBenchRecords('pruners', records);
  process.stderr.write(formatBenchTable(records));
  console.error(`merged ${records.length} records into ${file}`);
  process.exit(0);
}

await main();
