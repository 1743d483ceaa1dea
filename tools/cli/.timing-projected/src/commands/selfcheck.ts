/**
 * `sculpt selfcheck`: multiplies two seeded matrices on every available
 * device, compares the result with a float64 reference and reports the
 * maximum error and the measured GFLOP/s. Exits 1 when a device is wrong.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { getLogger, Random, UsageError } from '@sculpt/core';
import type { Device, DeviceKind, matmul as runtimeMatmul } from '@sculpt/runtime-gpu';
import { getContext } from '../context.js';
import { formatTable, output } from '../output.js';

const log = getLogger('cli:selfcheck');

export interface SelfcheckResult {
  device: DeviceKind;
  name: string;
  size: number;
  maxAbsError: number;
  /** Max error relative to the largest reference magnitude. */
  maxRelError: number;
  gflops: number;
  passed: boolean;
}

/** f32 products of length K with inputs in [-1, 1): rounding error stays far below this bound. */
function tolerance(size: number): number {
  return 1e-6 * size;
}

type Tensor = ReturnType<Device['tensor']>;

async function timeMatmul(matmul: typeof runtimeMatmul, device: Device, a: Tensor, b: Tensor, size: number): Promise<number> {
  // Warm-up compiles shaders or onnxruntime sessions outside the timed runs.
  matmul(a, b).dispose();
  await device.sync();
  let repetitions = 0;
  const start = performance.now();
  while (repetitions < 20 && (repetitions < 2 || performance.now() - start < 1000)) {
    matmul(a, b).dispose();
    await device.sync();
    repetitions++;
  }
  const seconds = (performance.now() - start) / 1000 / repetitions;
  return (2 * size ** 3) / seconds / 1e9;
}

export async function runSelfcheck(kinds: DeviceKind[], size: number): Promise<SelfcheckResult[]> {
  const { getDevice, matmul, reference } = await import('@sculpt/runtime-gpu');
  const random = new Random(2026);
  const a = Float32Array.from({ length: size * size }, () => random.nextFloat() * 2 - 1);
  const b = Float32Array.from({ length: size * size }, () => random.nextFloat() * 2 - 1);
  const expected = reference.matmul({ a, b, batch: 1, batchB: 1, m: size, k: size, n: size });
  const scale = expected.reduce((max, value) => Math.max(max, Math.abs(value)), 0) || 1;

  const results: SelfcheckResult[] = [];
  for (const kind of kinds) {
    const device = await getDevice(kind);
    log.info(`multiplying two ${size}×${size} matrices on ${kind} (${device.info.name})`);
    const ta = device.tensor(a, [size, size]);
    const tb = device.tensor(b, [size, size]);
    const got = await matmul(ta, tb).read();
    let maxAbsError = 0;
    for (let i = 0; i < expected.length; i++) {
      const error = Math.abs(got[i] - expected[i]);
      // NaN must count as a failure, so compare with `>` negated.
      if (!(error <= maxAbsError)) maxAbsError = Number.isNaN(error) ? Infinity : error;
    }
    const gflops = await timeMatmul(matmul, device, ta, tb, size);
    ta.dispose();
    tb.dispose();
    results.push({
      device: kind,
      name: device.info.name,
      size,
      maxAbsError,
      maxRelError: maxAbsError / scale,
      gflops,
      passed: maxAbsError <= tolerance(size),
    });
  }
  return results;
}

export function register(program: Command): void {
  program
    .command('selfcheck')
    .description('check every device: multiply two matrices, compare with a float64 reference, report error and GFLOP/s')
    .addOption(new Option('--size <n>', 'matrix order (the check multiplies two n×n matrices)').default('256'))
    .action(async (options, command) => {
      const context = getContext(command as unknown as Command);
      const size = Number(options.size);
      if (!Number.isInteger(size) || size < 1 || size > 4096) {
        throw new UsageError(`Invalid --size "${options.size}"; expected an integer from 1 to 4096`);
      }

      const { disposeDevices, probeWebGpuAdapter } = await import('@sculpt/runtime-gpu');
      let kinds: DeviceKind[];
      if (context.globals.device === 'auto') {
        const probe = await probeWebGpuAdapter();
        kinds = probe.adapter ? ['cpu', 'webgpu'] : ['cpu'];
        if (!probe.adapter) log.info(`skipping webgpu: ${probe.reason}`);
      } else {
        kinds = [context.globals.device];
      }

      try {
        const results = await runSelfcheck(kinds, size);
        const failed = results.filter((result) => !result.passed);
        output(
          { passed: failed.length === 0, tolerance: tolerance(size), results },
          {
            json: context.globals.json,
            human: `${formatTable(
              results.map((result) => ({
                device: result.device,
                name: result.name,
                size: result.size,
                'max abs error': result.maxAbsError.toExponential(2),
                'GFLOP/s': result.gflops.toFixed(2),
                result: result.passed ? 'ok' : 'FAILED',
              })),
            )}\n`,
          },
        );
        if (failed.length > 0) {
          process.exitCode = 1;
          throw new Error(`selfcheck failed on ${failed.map((result) => result.device).join(', ')}: max error above ${tolerance(size)}`);
        }
      } finally {
        await disposeDevices();
      }
    });
}
