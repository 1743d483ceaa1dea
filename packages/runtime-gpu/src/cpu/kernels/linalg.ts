/**
 * cpu linalg kernels: blocked f64 Cholesky routines (cpu/linalg-blocked.ts), f32 results.
 * `cholesky` and `inverseHessianFactor` also return a status tensor,
 * [-1, 0] on success or [pivot index, pivot value], read by linalg/ops.ts.
 */
import { NotPositiveDefiniteError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertCholeskyInput } from '../../kernels/validate.js';
import { asCpuDevice } from '../cpu-device.js';
import { choleskyBlockedF64, choleskyInverseBlockedF64, inverseHessianFactorBlockedF64 } from '../linalg-blocked.js';
import type { OrtSessionCache } from '../ort-sessions.js';

function registerFactorKernel<A extends Record<string, unknown>>(
  name: string,
  compute: (matrix: Float32Array, n: number, attrs: A, sessions: OrtSessionCache) => Promise<Float64Array>,
): void {
  registerKernel<A>({
    name,
    device: 'cpu',
    run(inputs, attrs, device) {
      const n = assertCholeskyInput(name, inputs, (attrs as { percdamp?: number }).percdamp);
      const outputs = [
        { shape: [n, n], dtype: 'f32' as const },
        { shape: [2], dtype: 'f32' as const },
      ];
      const cpu = asCpuDevice(device);
      return cpu.enqueue(name, inputs, outputs, async ([data]) => {
        try {
          return [Float32Array.from(await compute(data as Float32Array, n, attrs, cpu.sessions)), Float32Array.of(-1, 0)];
        } catch (error) {
          if (!(error instanceof NotPositiveDefiniteError)) throw error;
          return [new Float32Array(n * n).fill(NaN), Float32Array.of(error.pivotIndex, error.pivotValue)];
        }
      });
    },
  });
}

registerFactorKernel('cholesky', (a, n, _attrs, sessions) => choleskyBlockedF64(a, n, sessions, 'cholesky'));
registerFactorKernel<{ percdamp: number }>('inverseHessianFactor', (h, n, attrs, sessions) =>
  inverseHessianFactorBlockedF64(h, n, attrs.percdamp, sessions),
);

registerKernel({
  name: 'choleskyInverse',
  device: 'cpu',
  run(inputs, _attrs, device) {
    const n = assertCholeskyInput('choleskyInverse', inputs);
    const cpu = asCpuDevice(device);
    return cpu.enqueue('choleskyInverse', inputs, [{ shape: [n, n], dtype: 'f32' }], async ([data]) => [
      Float32Array.from(await choleskyInverseBlockedF64(data as Float32Array, n, cpu.sessions)),
    ]);
  },
});
