/**
 * Runs the JSON vectors of test/data/kernels.json (NumPy float64 results) on
 * every device, in f32 and, where the device stores it, f16.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  affine,
  binary,
  cast,
  columnSumSquares,
  disposeDevices,
  f16BitsToF32,
  f32ToF16Bits,
  matmul,
  reduceRows,
  reference,
  reshape,
  transpose,
  unary,
  type BinaryOp,
  type Device,
  type DeviceKind,
  type DType,
  type ReduceOp,
  type UnaryOp,
} from '../src/index.js';
import { DEVICE_KINDS, expectClose, openDevice, readVectors, seededValues, TOLERANCE, type TensorJson } from './helpers.js';

interface Vectors {
  matmul: { name: string; a: TensorJson; b: TensorJson; bias?: TensorJson; transA: boolean; transB: boolean; expected: TensorJson }[];
  binary: { op: BinaryOp; a: TensorJson; b: TensorJson; expected: TensorJson }[];
  unary: { op: UnaryOp; x: TensorJson; expected: TensorJson }[];
  reduceRows: { op: ReduceOp; x: TensorJson; expected: TensorJson }[];
}

const vectors = readVectors<Vectors>('kernels.json');

function roundToF16(values: ArrayLike<number>): number[] {
  return Array.from(values, (value) => f16BitsToF32(f32ToF16Bits(value)));
}

/** Sum of |a|·|b| over K per output, so f16 tolerances scale with the accumulated magnitude. */
function matmulMagnitude(vector: Vectors['matmul'][number]): number {
  const k = vector.transA ? vector.a.shape[vector.a.shape.length - 2] : vector.a.shape[vector.a.shape.length - 1];
  return k * 4;
}

describe.each(DEVICE_KINDS)('kernels on %s', (kind: DeviceKind) => {
  let device: Device;

  beforeAll(async () => {
    device = await openDevice(kind);
  });

  afterAll(async () => {
    await disposeDevices();
  });

  describe('matmul f32', () => {
    it.each(vectors.matmul.map((vector) => [vector.name, vector] as const))('%s', async (_name, vector) => {
      const a = device.tensor(vector.a.data, vector.a.shape);
      const b = device.tensor(vector.b.data, vector.b.shape);
      const bias = vector.bias ? device.tensor(vector.bias.data, vector.bias.shape) : undefined;
      const c = matmul(a, b, { transA: vector.transA, transB: vector.transB, bias });
      expect(c.shape).toEqual(vector.expected.shape);
      expectClose(await c.read(), vector.expected.data, TOLERANCE.f32, vector.name);
    });
  });

  describe('matmul f16', () => {
    it.each(vectors.matmul.map((vector) => [vector.name, vector] as const))('%s', async (name, vector) => {
      if (!device.supportsDType('f16')) return;
      const a = device.tensor(vector.a.data, vector.a.shape, 'f16');
      const b = device.tensor(vector.b.data, vector.b.shape, 'f16');
      const bias = vector.bias ? device.tensor(vector.bias.data, vector.bias.shape, 'f16') : undefined;
      const c = matmul(a, b, { transA: vector.transA, transB: vector.transB, bias });
      expect(c.dtype).toBe('f16');
      const rank = vector.a.shape.length;
      const expected = reference.matmul({
        a: roundToF16(vector.a.data),
        b: roundToF16(vector.b.data),
        bias: vector.bias ? roundToF16(vector.bias.data) : undefined,
        batch: rank > 2 ? vector.a.shape[0] : 1,
        batchB: vector.b.shape.length > 2 ? vector.b.shape[0] : 1,
        m: vector.expected.shape[vector.expected.shape.length - 2],
        n: vector.expected.shape[vector.expected.shape.length - 1],
        k: vector.transA ? vector.a.shape[rank - 2] : vector.a.shape[rank - 1],
        transA: vector.transA,
        transB: vector.transB,
      });
      // f32 accumulation, one rounding of the result to binary16 (relative 2^-11).
      expectClose(await c.read(), expected, { atol: 1e-3 * Math.sqrt(matmulMagnitude(vector)), rtol: 2e-3 }, name);
    });
  });

  it('matmul on aligned larger shapes matches the f64 reference', async () => {
    for (const [m, k, n, transA] of [
      [128, 96, 160, false],
      [96, 200, 64, true],
      [8, 4, 4, true],
    ] as const) {
      const a = seededValues(m * k, m + k);
      const b = seededValues(k * n, k + n);
      const c = matmul(device.tensor(a, transA ? [k, m] : [m, k]), device.tensor(b, [k, n]), { transA });
      const expected = reference.matmul({ a, b, batch: 1, batchB: 1, m, k, n, transA });
      expectClose(await c.read(), expected, TOLERANCE.f32, `${m}x${k}x${n} transA=${transA}`);
    }
  });

  describe('binary', () => {
    it.each(vectors.binary.map((vector) => [`${vector.op} ${JSON.stringify(vector.a.shape)} ${JSON.stringify(vector.b.shape)}`, vector] as const))(
      '%s',
      async (name, vector) => {
        const dtypes: DType[] = device.supportsDType('f16') ? ['f32', 'f16'] : ['f32'];
        for (const dtype of dtypes) {
          const out = binary(vector.op, device.tensor(vector.a.data, vector.a.shape, dtype), device.tensor(vector.b.data, vector.b.shape, dtype));
          expect(out.shape).toEqual(vector.expected.shape);
          const expected = dtype === 'f16'
            ? reference.binary(vector.op, roundToF16(vector.a.data), vector.a.shape, roundToF16(vector.b.data), vector.b.shape).data
            : vector.expected.data;
          expectClose(await out.read(), expected, dtype === 'f16' ? { atol: 1e-3, rtol: 2e-3 } : TOLERANCE.f32, `${name} ${dtype}`);
        }
      },
    );

    it('computes on i32', async () => {
      const out = binary('add', device.tensor([1, -2, 3], [3], 'i32'), device.tensor([10], [1], 'i32'));
      expect(out.dtype).toBe('i32');
      expect([...(await out.read())]).toEqual([11, 8, 13]);
    });
  });

  describe('unary', () => {
    it.each(vectors.unary.map((vector) => [vector.op, vector] as const))('%s', async (op, vector) => {
      const out = unary(op, device.tensor(vector.x.data, vector.x.shape));
      expectClose(await out.read(), vector.expected.data, { atol: 1e-5, rtol: 1e-5 }, op);
    });

    it('keeps tanh and sigmoid finite at large magnitudes', async () => {
      const x = device.tensor([-100, -50, 50, 100], [4]);
      expectClose(await unary('tanh', x).read(), [-1, -1, 1, 1], TOLERANCE.f32, 'tanh');
      expectClose(await unary('sigmoid', x).read(), [0, 0, 1, 1], TOLERANCE.f32, 'sigmoid');
    });
  });

  describe('reduceRows', () => {
    it.each(vectors.reduceRows.map((vector) => [`${vector.op} ${JSON.stringify(vector.x.shape)}`, vector] as const))('%s', async (name, vector) => {
      const out = reduceRows(vector.op, device.tensor(vector.x.data, vector.x.shape));
      expect(out.shape).toEqual(vector.expected.shape);
      expectClose(await out.read(), vector.expected.data, TOLERANCE.f32, name);
    });
  });

  it('transposes the last two dimensions', async () => {
    const data = seededValues(2 * 5 * 7, 3);
    const out = transpose(device.tensor(data, [2, 5, 7]));
    expect(out.shape).toEqual([2, 7, 5]);
    expectClose(await out.read(), reference.transpose(data, 2, 5, 7), { atol: 0, rtol: 0 }, 'transpose');
  });

  it('applies affine maps, casts and reshapes', async () => {
    const x = device.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expectClose(await affine(x, 2, 0.5).read(), [2.5, 4.5, 6.5, 8.5, 10.5, 12.5], TOLERANCE.f32, 'affine');
    const reshaped = reshape(x, [3, 2]);
    expect(reshaped.shape).toEqual([3, 2]);
    expect([...(await reshaped.read())]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...(await cast(device.tensor([1.7, -2.7], [2]), 'i32').read())]).toEqual([1, -2]);
    if (device.supportsDType('f16')) {
      const half = cast(device.tensor([1, 1 + 2 ** -11, 70000], [3]), 'f16');
      expect([...(await half.readStorage())]).toEqual([0x3c00, 0x3c00, 0x7c00]);
      expect([...(await cast(half, 'f32').read())]).toEqual([1, 1, Infinity]);
    }
  });

  it('sums squares per column', async () => {
    const data = seededValues(9 * 6, 5);
    const out = columnSumSquares(device.tensor(data, [9, 6]));
    expectClose(await out.read(), reference.columnSumSquares(data, 9, 6), TOLERANCE.f32, 'columnSumSquares');
  });
});
