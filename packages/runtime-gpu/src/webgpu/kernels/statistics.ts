/**
 * webgpu kernels for pruning statistics. The Hessian update is a SYRK. The
 * matmul kernels compute only tiles on or above the diagonal of α·XᵀX + β·H,
 * with tokens as the K dimension and f32 accumulation even for f16 X. Then a
 * mirror pass copies the upper triangle into the lower one.
 */
import { registerKernel, runKernel } from '../../kernels/registry.js';
import { assertDTypes, assertRank, assertSquareMatrix, assertStatisticInputs } from '../../kernels/validate.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice, type GpuStorage, type WebGpuDevice } from '../webgpu-device.js';
import { dispatchLinear, linearMain } from './elementwise.js';
import { recordGemm } from './matmul.js';
import { recordColumnSumSquares } from './reduce.js';

interface UpdateAttrs extends Record<string, unknown> {
  previousSamples: number;
  addedSamples: number;
}

/** Copies the upper triangle of a square f32 matrix into its lower triangle, in place. */
export function recordMirrorUpper(device: WebGpuDevice, matrix: GPUBuffer, d: number): void {
  const code = (): string => `struct Params { start: u32, count: u32, d: u32 }
@group(0) @binding(0) var<storage, read_write> m: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;
${linearMain(`let row = index / p.d;
  let col = index % p.d;
  // Writes only strictly-lower entries and reads only strictly-upper ones, so threads never race.
  if (row > col) { m[index] = m[col * p.d + row]; }`)}`;
  dispatchLinear(device, 'mirrorUpper:f32', code, [matrix], d * d, [d]);
}

registerKernel<UpdateAttrs>({
  name: 'hessianUpdate',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const [h, x] = inputs as [Tensor, Tensor];
    const op = 'hessianUpdate';
    const d = assertSquareMatrix(op, h);
    const rows = assertStatisticInputs(op, h, x, d, attrs.previousSamples, attrs.addedSamples);
    const dtype = assertDTypes(op, [x], ['f32', 'f16']);
    const gpu = asWebGpuDevice(device);
    const total = attrs.previousSamples + attrs.addedSamples;
    const out = gpu.createTensor([d, d], 'f32');
    const outStorage = out.storage<GpuStorage>(op);
    const oldWeight = attrs.previousSamples / total;

    if (oldWeight !== 0) gpu.copyBuffer(h.storage<GpuStorage>(op).buffer, 0, outStorage.buffer, 0, d * d * 4);
    // f16 X is widened to an f32 copy first, and the accumulator stays f32.
    const xStorage = x.storage<GpuStorage>(op);
    const xF32 = dtype === 'f16' ? widen(x) : null;
    const source = xF32 ? xF32.storage<GpuStorage>(op) : xStorage;
    const upperOnly = recordGemm(gpu, {
      a: source,
      b: source,
      c: outStorage,
      bias: null,
      dtype: 'f32',
      transA: true,
      transB: false,
      batch: 1,
      bBatchStride: 0,
      m: d,
      n: d,
      k: rows,
      alpha: 2 / total,
      beta: oldWeight,
      triangular: true,
    });
    xF32?.dispose();
    // The mirror binds the whole matrix, which only the unchunked SYRK paths guarantee to fit.
    if (upperOnly) recordMirrorUpper(gpu, outStorage.buffer, d);
    return [out];
  },
});

/** Widens f16 X to f32 through the cast kernel, which splits tensors larger than one binding. */
function widen(x: Tensor): Tensor {
  return runKernel('cast', [x], { dtype: 'f32' })[0];
}

registerKernel<UpdateAttrs>({
  name: 'wandaScalerUpdate',
  device: 'webgpu',
  run(inputs, attrs, device) {
    const [s, x] = inputs as [Tensor, Tensor];
    const op = 'wandaScalerUpdate';
    assertRank(op, s, 1, 1);
    const d = s.shape[0];
    const rows = assertStatisticInputs(op, s, x, d, attrs.previousSamples, attrs.addedSamples);
    assertDTypes(op, [x], ['f32', 'f16']);
    const gpu = asWebGpuDevice(device);
    const total = attrs.previousSamples + attrs.addedSamples;
    const out = gpu.createTensor([d], 'f32');
    recordColumnSumSquares(gpu, x, s.storage<GpuStorage>(op).buffer, out.storage<GpuStorage>(op).buffer, rows, d, attrs.previousSamples / total, 1 / total);
    return [out];
  },
});
