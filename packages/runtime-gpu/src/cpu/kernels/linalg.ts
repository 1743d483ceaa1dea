/**
 * cpu linalg kernels: f64 Cholesky routines on the host, f32 results.
 * `cholesky` and `inverseHessianFactor` also return a status tensor,
 * [-1, 0] on success or [pivot index, pivot value], read by linalg/ops.ts.
 */
import { NotPositiveDefiniteError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes, assertSquareMatrix } from '../../kernels/validate.js';
import { choleskyF64, choleskyInverseF64, inverseHessianFactorF64 } from '../../linalg/cholesky-f64.js';
import { asCpuDevice } from '../cpu-device.js';

function registerFactorKernel<A extends Record<string, unknown>>(
  name: string,
  compute: (matrix: Float32Array, n: number, attrs: A) => Float64Array,
): void {
  registerKernel<A>({
    name,
    device: 'cpu',
    run(inputs, attrs, device) {
      const [a] = inputs;
      const n = assertSquareMatrix(name, a);
      assertDTypes(name, inputs, ['f32']);
      const outputs = [
        { shape: [n, n], dtype: 'f32' as const },
        { shape: [2], dtype: 'f32' as const },
      ];
      return asCpuDevice(device).enqueue(name, inputs, outputs, ([data]) => {
        try {
          return [Float32Array.from(compute(data as Float32Array, n, attrs)), Float32Array.of(-1, 0)];
        } catch (error) {
          if (!(error instanceof NotPositiveDefiniteError)) throw error;
          return [new Float32Array(n * n).fill(NaN), Float32Array.of(error.pivotIndex, error.pivotValue)];
        }
      });
    },
  });
}

registerFactorKernel('cholesky', (a, n) => choleskyF64(a, n, 'cholesky'));
registerFactorKernel<{ percdamp: number }>('inverseHessianFactor', (h, n, attrs) => inverseHessianFactorF64(h, n, attrs.percdamp));

registerKernel({
  name: 'choleskyInverse',
  device: 'cpu',
  run(inputs, _attrs, device) {
    const [l] = inputs;
    const n = assertSquareMatrix('choleskyInverse', l);
    assertDTypes('choleskyInverse', inputs, ['f32']);
    return asCpuDevice(device).enqueue('choleskyInverse', inputs, [{ shape: [n, n], dtype: 'f32' }], ([data]) => [
      Float32Array.from(choleskyInverseF64(data as Float32Array, n)),
    ]);
  },
});
