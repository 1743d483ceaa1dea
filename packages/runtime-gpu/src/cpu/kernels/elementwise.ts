/** cpu elementwise kernels in plain TS: broadcasting binary ops, unary ops, affine, cast, reshape. */
import { allocateStorage, f16BitsToF32Array, f32ArrayToF16Bits, type DType, type StorageArray } from '../../dtype.js';
import { ShapeError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes } from '../../kernels/validate.js';
import type { BinaryOp, UnaryOp } from '../../ops.js';
import { binaryScalar, unaryScalar } from '../../reference/index.js';
import { broadcastShapes, broadcastStrides, formatShape, shapeSize, shapesEqual } from '../../shape.js';
import { asCpuDevice } from '../cpu-device.js';

/** Widens storage to numbers the TS loops can use (f16 → f32). */
function values(data: StorageArray, dtype: DType): Float32Array | Int32Array {
  return dtype === 'f16' ? f16BitsToF32Array(data as Uint16Array) : (data as Float32Array | Int32Array);
}

/** Stores computed f32 values as `dtype` (rounding to binary16 for f16, truncating for i32). */
function store(result: Float32Array, dtype: DType): StorageArray {
  if (dtype === 'f16') return f32ArrayToF16Bits(result);
  if (dtype === 'i32') return Int32Array.from(result);
  return result;
}

function binaryLoop(op: BinaryOp, a: ArrayLike<number>, b: ArrayLike<number>, shapeA: readonly number[], shapeB: readonly number[], outShape: number[]): Float32Array {
  const size = shapeSize(outShape);
  const out = new Float32Array(size);

  // Fast paths: equal shapes, and B repeating along the rows of A (bias-like).
  if (shapesEqual(shapeA, shapeB)) {
    for (let i = 0; i < size; i++) out[i] = binaryScalar(op, a[i], b[i]);
    return out;
  }
  if (shapesEqual(shapeA, outShape) && b.length > 0 && shapesEqual(shapeB, outShape.slice(outShape.length - shapeB.length))) {
    const period = b.length;
    for (let i = 0; i < size; i++) out[i] = binaryScalar(op, a[i], b[i % period]);
    return out;
  }

  const rank = outShape.length;
  const stridesA = broadcastStrides(shapeA, outShape);
  const stridesB = broadcastStrides(shapeB, outShape);
  const index = new Array<number>(rank).fill(0);
  let offsetA = 0;
  let offsetB = 0;
  for (let flat = 0; flat < size; flat++) {
    out[flat] = binaryScalar(op, a[offsetA], b[offsetB]);
    // Odometer increment that keeps both input offsets up to date.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      offsetA += stridesA[d];
      offsetB += stridesB[d];
      if (index[d] < outShape[d]) break;
      offsetA -= stridesA[d] * outShape[d];
      offsetB -= stridesB[d] * outShape[d];
      index[d] = 0;
    }
  }
  return out;
}

registerKernel<{ op: BinaryOp }>({
  name: 'binary',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [a, b] = inputs;
    const dtype = assertDTypes(attrs.op, inputs, ['f32', 'f16', 'i32']);
    const shape = broadcastShapes(a.shape, b.shape, attrs.op);
    return asCpuDevice(device).enqueue(attrs.op, inputs, [{ shape, dtype }], ([x, y]) => [
      store(binaryLoop(attrs.op, values(x, dtype), values(y, dtype), a.shape, b.shape, shape), dtype),
    ]);
  },
});

registerKernel<{ op: UnaryOp }>({
  name: 'unary',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [x] = inputs;
    const dtype = assertDTypes(attrs.op, inputs, ['f32', 'f16']);
    return asCpuDevice(device).enqueue(attrs.op, inputs, [{ shape: x.shape, dtype }], ([data]) => {
      const input = values(data, dtype);
      const out = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) out[i] = unaryScalar(attrs.op, input[i]);
      return [store(out, dtype)];
    });
  },
});

registerKernel<{ scale: number; offset: number }>({
  name: 'affine',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [x] = inputs;
    const dtype = assertDTypes('affine', inputs, ['f32', 'f16']);
    return asCpuDevice(device).enqueue('affine', inputs, [{ shape: x.shape, dtype }], ([data]) => {
      const input = values(data, dtype);
      const out = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) out[i] = input[i] * attrs.scale + attrs.offset;
      return [store(out, dtype)];
    });
  },
});

registerKernel<{ dtype: DType }>({
  name: 'cast',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [x] = inputs;
    return asCpuDevice(device).enqueue('cast', inputs, [{ shape: x.shape, dtype: attrs.dtype }], ([data]) => {
      if (x.dtype === attrs.dtype) return [data.slice()];
      const widened = values(data, x.dtype);
      if (attrs.dtype === 'f32') return [Float32Array.from(widened)];
      if (attrs.dtype === 'f16') return [f32ArrayToF16Bits(widened)];
      const out = allocateStorage('i32', widened.length);
      for (let i = 0; i < widened.length; i++) out[i] = Math.trunc(widened[i]);
      return [out];
    });
  },
});

registerKernel<{ shape: number[] }>({
  name: 'reshape',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [x] = inputs;
    if (shapeSize(attrs.shape) !== x.size) {
      throw new ShapeError(`reshape: cannot reshape ${x.describe()} to ${formatShape(attrs.shape)} (${shapeSize(attrs.shape)} elements)`);
    }
    return asCpuDevice(device).enqueue('reshape', inputs, [{ shape: attrs.shape, dtype: x.dtype }], ([data]) => [data.slice()]);
  },
});
