/** cpu row reductions and transposes in plain TS. */
import { f16BitsToF32Array, f32ArrayToF16Bits, type StorageArray } from '../../dtype.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes, assertRank } from '../../kernels/validate.js';
import type { ReduceOp } from '../../ops.js';
import { asCpuDevice } from '../cpu-device.js';

registerKernel<{ op: ReduceOp }>({
  name: 'reduceRows',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [x] = inputs;
    const op = `reduceRows(${attrs.op})`;
    assertRank(op, x, 1);
    const dtype = assertDTypes(op, inputs, ['f32', 'f16']);
    const cols = x.shape[x.rank - 1];
    const rows = cols === 0 ? 0 : x.size / cols;
    return asCpuDevice(device).enqueue(op, inputs, [{ shape: x.shape.slice(0, -1), dtype }], ([data]) => {
      const input = dtype === 'f16' ? f16BitsToF32Array(data as Uint16Array) : (data as Float32Array);
      const out = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        const start = r * cols;
        // Accumulate in f64 (JS numbers), then store f32.
        let acc = attrs.op === 'max' ? -Infinity : 0;
        if (attrs.op === 'sum') for (let c = 0; c < cols; c++) acc += input[start + c];
        else if (attrs.op === 'max') for (let c = 0; c < cols; c++) acc = Math.max(acc, input[start + c]);
        else {
          for (let c = 0; c < cols; c++) acc += input[start + c] * input[start + c];
          acc /= cols;
        }
        out[r] = acc;
      }
      return [dtype === 'f16' ? f32ArrayToF16Bits(out) : out];
    });
  },
});

registerKernel({
  name: 'transpose',
  device: 'cpu',
  run(inputs, _attrs, device) {
    const [x] = inputs;
    assertRank('transpose', x, 2);
    const [rows, cols] = x.shape.slice(-2);
    const batch = rows * cols === 0 ? 0 : x.size / (rows * cols);
    const shape = [...x.shape.slice(0, -2), cols, rows];
    return asCpuDevice(device).enqueue('transpose', inputs, [{ shape, dtype: x.dtype }], ([data]) => {
      const out = data.slice() as StorageArray;
      // Blocked copy keeps both the reads and the writes within cache lines.
      const block = 32;
      for (let p = 0; p < batch; p++) {
        const base = p * rows * cols;
        for (let r0 = 0; r0 < rows; r0 += block) {
          for (let c0 = 0; c0 < cols; c0 += block) {
            const rEnd = Math.min(r0 + block, rows);
            const cEnd = Math.min(c0 + block, cols);
            for (let r = r0; r < rEnd; r++) {
              for (let c = c0; c < cEnd; c++) out[base + c * rows + r] = data[base + r * cols + c];
            }
          }
        }
      }
      return [out];
    });
  },
});
