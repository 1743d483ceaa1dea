/**
 * cpu kernels for pruning statistics. The Hessian update is one
 * onnxruntime graph, Gemm(X, X, transA=1) scaled and added to the scaled
 * old H, so its cost is that of ORT's own XᵀX. Column sums of squares run
 * in plain TS with f64 accumulation.
 */
import { f16BitsToF32Array, type StorageArray } from '../../dtype.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes, assertRank, assertSquareMatrix, assertStatisticInputs } from '../../kernels/validate.js';
import { asCpuDevice } from '../cpu-device.js';

interface UpdateAttrs extends Record<string, unknown> {
  previousSamples: number;
  addedSamples: number;
}

function buildHessianGraph(): Uint8Array {
  const graph = new GraphBuilder('hessian_update');
  const x = graph.input('X', ['rows', 'd']);
  const h = graph.input('H', ['d', 'd']);
  const newWeight = graph.input('new_weight', [1]);
  const oldWeight = graph.input('old_weight', [1]);
  const [gram] = graph.node('Gemm', [x, x], { transA: 1 });
  const [scaledGram] = graph.node('Mul', [gram, newWeight]);
  const [scaledH] = graph.node('Mul', [h, oldWeight]);
  graph.node('Add', [scaledGram, scaledH], {}, ['Y']);
  graph.output('Y');
  return graph.build();
}

function asF32(data: StorageArray, dtype: string): Float32Array {
  return dtype === 'f16' ? f16BitsToF32Array(data as Uint16Array) : (data as Float32Array);
}

/** Σ over rows of x², per column, accumulated in f64. */
export function columnSumSquaresF64(x: ArrayLike<number>, rows: number, d: number): Float64Array {
  const sums = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const start = r * d;
    for (let c = 0; c < d; c++) {
      const value = x[start + c];
      sums[c] += value * value;
    }
  }
  return sums;
}

registerKernel<UpdateAttrs>({
  name: 'hessianUpdate',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [h, x] = inputs;
    const op = 'hessianUpdate';
    const d = assertSquareMatrix(op, h);
    const rows = assertStatisticInputs(op, h, x, d, attrs.previousSamples, attrs.addedSamples);
    assertDTypes(op, [x], ['f32', 'f16']);
    const total = attrs.previousSamples + attrs.addedSamples;
    const cpu = asCpuDevice(device);

    return cpu.enqueue(op, inputs, [{ shape: [d, d], dtype: 'f32' }], async ([hData, xData]) => {
      const [result] = await cpu.sessions.run('hessianUpdate', buildHessianGraph, {
        X: { data: asF32(xData, x.dtype), dims: [rows, d] },
        H: { data: hData as Float32Array, dims: [d, d] },
        new_weight: { data: Float32Array.of(2 / total), dims: [1] },
        old_weight: { data: Float32Array.of(attrs.previousSamples / total), dims: [1] },
      });
      return [result];
    });
  },
});

registerKernel<UpdateAttrs>({
  name: 'wandaScalerUpdate',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [s, x] = inputs;
    const op = 'wandaScalerUpdate';
    assertRank(op, s, 1, 1);
    const d = s.shape[0];
    const rows = assertStatisticInputs(op, s, x, d, attrs.previousSamples, attrs.addedSamples);
    assertDTypes(op, [x], ['f32', 'f16']);
    const total = attrs.previousSamples + attrs.addedSamples;

    return asCpuDevice(device).enqueue(op, inputs, [{ shape: [d], dtype: 'f32' }], ([sData, xData]) => {
      const sums = columnSumSquaresF64(asF32(xData, x.dtype), rows, d);
      const old = sData as Float32Array;
      const out = new Float32Array(d);
      for (let c = 0; c < d; c++) out[c] = (old[c] * attrs.previousSamples) / total + sums[c] / total;
      return [out];
    });
  },
});

registerKernel({
  name: 'columnSumSquares',
  device: 'cpu',
  run(inputs, _attrs, device) {
    const [x] = inputs;
    assertRank('columnSumSquares', x, 1);
    assertDTypes('columnSumSquares', [x], ['f32', 'f16']);
    const d = x.shape[x.rank - 1];
    const rows = d === 0 ? 0 : x.size / d;
    return asCpuDevice(device).enqueue('columnSumSquares', inputs, [{ shape: [d], dtype: 'f32' }], ([data]) => [
      Float32Array.from(columnSumSquaresF64(asF32(data, x.dtype), rows, d)),
    ]);
  },
});
