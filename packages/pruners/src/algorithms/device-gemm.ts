/**
 * A GemmBackend that hands large products to a runtime device's matmul
 * (onnxruntime's MLAS on the CPU device). Operands are rounded to float32,
 * the precision the reference accumulates its statistics in. Small products
 * stay on the float64 loop, because there the copies cost more than they save.
 */
import { getCpuDevice, matmul, type Device } from '@sculpt/runtime-gpu';
import { readForOneUse, wrapHostArray } from './host-tensors.js';
import { referenceGemm, type GemmBackend } from './linalg.js';

export function createDeviceGemm(device: Device = getCpuDevice(), minimumWork = 256 * 256 * 256): GemmBackend {
  return {
    async subtractProduct(m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc) {
      if (m * n * k < minimumWork) {
        referenceGemm.subtractProduct(m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        return;
      }
      const left = new Float32Array(m * k);
      for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) left[i * k + p] = a[aOffset + i * lda + p];
      const right = new Float32Array(k * n);
      for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) right[p * n + j] = b[bOffset + p * ldb + j];

      const leftTensor = wrapHostArray(device, left, [m, k]);
      const rightTensor = wrapHostArray(device, right, [k, n]);
      const product = matmul(leftTensor, rightTensor);
      try {
        const values = await readForOneUse(device, product);
        for (let i = 0; i < m; i++) {
          const row = cOffset + i * ldc;
          for (let j = 0; j < n; j++) c[row + j] -= values[i * n + j];
        }
      } finally {
        leftTensor.dispose();
        rightTensor.dispose();
        product.dispose();
      }
    },
  };
}
