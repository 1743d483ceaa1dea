/**
 * webgpu-only behaviour: splitting work that exceeds binding or dispatch
 * limits (tested by planning with lowered limits on a real device), both
 * matmul shader families, buffer recycling and error reporting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  createWebGpuDevice,
  DeviceLostError,
  disposeDevices,
  f16BitsToF32Array,
  f32ArrayToF16Bits,
  getDevice,
  HessianAccumulator,
  LimitError,
  matmul,
  NoAdapterError,
  reduceRows,
  reference,
  setMatmulKernelPreference,
  transpose,
  columnSumSquares,
  wandaScalerUpdate,
  unary,
  type WebGpuDevice,
} from '../src/index.js';
import { setDirectMatmulShape } from '../src/webgpu/kernels/matmul.js';
import { expectClose, gpuAvailable, seededValues, TOLERANCE } from './helpers.js';

describe.skipIf(!gpuAvailable && !process.env.CI)('webgpu device', () => {
  let small: WebGpuDevice;
  let device: WebGpuDevice;

  beforeAll(async () => {
    if (!gpuAvailable) throw new Error('CI is set but no WebGPU adapter was found; install mesa-vulkan-drivers and libvulkan1');
    device = (await getDevice('webgpu')) as WebGpuDevice;
    // Same adapter, but kernels plan for 4 KiB bindings and 3 workgroups per dimension.
    small = await createWebGpuDevice({ planningLimits: { maxStorageBufferBindingSize: 4096, maxComputeWorkgroupsPerDimension: 3 } });
  });

  afterAll(async () => {
    small?.dispose();
    setMatmulKernelPreference('auto');
    await disposeDevices();
  });

  it('requests the adapter limits and reports features', () => {
    expect(device.limits.maxStorageBufferBindingSize).toBe(device.adapterReport.limits.maxStorageBufferBindingSize);
    expect(device.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    expect(small.limits.maxStorageBufferBindingSize).toBe(4096);
    if (device.adapterReport.features.includes('shader-f16')) expect(device.features.has('shader-f16')).toBe(true);
  });

  it('splits matmuls larger than one binding', async () => {
    for (const [m, k, n, transA, transB] of [
      [40, 50, 30, false, false],
      [40, 50, 30, true, false],
      [40, 50, 30, false, true],
      [33, 70, 45, true, true],
    ] as const) {
      const a = seededValues(m * k, m);
      const b = seededValues(k * n, n);
      const bias = seededValues(n, 7);
      const c = matmul(small.tensor(a, transA ? [k, m] : [m, k]), small.tensor(b, transB ? [n, k] : [k, n]), {
        transA,
        transB,
        bias: small.tensor(bias, [n]),
      });
      const expected = reference.matmul({ a, b, bias, batch: 1, batchB: 1, m, k, n, transA, transB });
      expectClose(await c.read(), expected, TOLERANCE.f32, `chunked ${m}x${k}x${n} transA=${transA} transB=${transB}`);
    }
  });

  it('splits elementwise ops and folds their dispatches', async () => {
    // 3000 elements = 12 KiB: three binding-sized chunks, each folded over a 3-wide grid.
    const a = seededValues(3000, 1);
    const b = seededValues(3000, 2);
    const sum = add(small.tensor(a, [3000]), small.tensor(b, [3000]));
    expectClose(await sum.read(), reference.binary('add', a, [3000], b, [3000]).data, TOLERANCE.f32, 'add');
    const broadcast = add(small.tensor(a, [100, 30]), small.tensor(b.subarray(0, 30), [30]));
    expectClose(await broadcast.read(), reference.binary('add', a, [100, 30], b.subarray(0, 30), [30]).data, TOLERANCE.f32, 'broadcast add');
    expectClose(await unary('square', small.tensor(a, [3000])).read(), reference.unary('square', a), TOLERANCE.f32, 'square');
  });

  it('splits row reductions larger than one binding', async () => {
    // The small device binds at most 960 f32 after alignment slack: [100, 30] needs 4 row windows,
    // and rows of 2500 elements need per-segment partials.
    for (const [rows, cols] of [[100, 30], [3, 2500], [1, 961]] as const) {
      const x = seededValues(rows * cols, rows + cols);
      for (const op of ['sum', 'max', 'meanSquare'] as const) {
        const out = reduceRows(op, small.tensor(x, [rows, cols]));
        expectClose(await out.read(), reference.reduceRows(op, x, rows, cols), { atol: 1e-4, rtol: 1e-4 }, `${op} [${rows}, ${cols}]`);
      }
    }
  });

  it('splits f16 row reductions larger than one binding', async () => {
    if (!small.supportsDType('f16')) return;
    const x = seededValues(2 * 4000, 3);
    const out = reduceRows('meanSquare', small.tensor(x, [2, 4000], 'f16'));
    expectClose(await out.read(), reference.reduceRows('meanSquare', Float32Array.from(x, (v) => Math.fround(v)), 2, 4000), TOLERANCE.f16, 'f16 meanSquare');
  });

  it('splits transposes larger than one binding', async () => {
    // [5, 12, 7]: several planes per window; [2, 40, 50]: planes of 2000 elements cut into tiles; [1, 3, 1500]: rows longer than a window.
    for (const [batch, rows, cols] of [[5, 12, 7], [2, 40, 50], [1, 3, 1500]] as const) {
      const x = seededValues(batch * rows * cols, rows);
      const out = transpose(small.tensor(x, [batch, rows, cols]));
      expect(out.shape).toEqual([batch, cols, rows]);
      expectClose(await out.read(), reference.transpose(x, batch, rows, cols), { atol: 0, rtol: 0 }, `transpose [${batch}, ${rows}, ${cols}]`);
    }
  });

  it('splits column sums of squares larger than one binding', async () => {
    for (const [rows, d] of [[300, 20], [5, 1500], [0, 8]] as const) {
      const x = seededValues(rows * d, d);
      const sums = columnSumSquares(small.tensor(x, [rows, d]));
      expectClose(await sums.read(), reference.columnSumSquares(x, rows, d), { atol: 1e-4, rtol: 1e-5 }, `column sums [${rows}, ${d}]`);
    }
    // The running Wanda scaler weighs the old state by previous / total samples.
    const rows = 200;
    const d = 30;
    const x = seededValues(rows * d, 11);
    const state = seededValues(d, 12).map(Math.abs);
    const updated = wandaScalerUpdate(small.tensor(state, [d]), small.tensor(x, [rows, d]), 100, rows);
    const expected = reference.columnSumSquares(x, rows, d).map((sum, c) => (100 * state[c] + sum) / (100 + rows));
    expectClose(await updated.read(), expected, { atol: 1e-5, rtol: 1e-5 }, 'wandaScalerUpdate');
  });

  it('runs both matmul shader families', async () => {
    const [m, k, n] = [72, 64, 96];
    const a = seededValues(m * k, 5);
    const b = seededValues(k * n, 6);
    const expected = reference.matmul({ a, b, batch: 1, batchB: 1, m, k, n });
    for (const preference of ['tiled', 'direct'] as const) {
      setMatmulKernelPreference(preference);
      const c = matmul(device.tensor(a, [m, k]), device.tensor(b, [k, n]));
      expectClose(await c.read(), expected, TOLERANCE.f32, preference);
    }
    setMatmulKernelPreference('auto');
  });

  it('runs every direct kernel shape', async () => {
    // N = 1024 gives the automatic 256-thread width. The other shapes are alternatives that a benchmark sweep can select.
    const [batch, m, k, n] = [2, 37, 40, 1024];
    const a = seededValues(batch * m * k, 8);
    const b = seededValues(k * n, 9);
    const bias = seededValues(n, 10);
    const expected = reference.matmul({ a, b, bias, batch, batchB: 1, m, k, n });
    setMatmulKernelPreference('direct');
    try {
      for (const shape of [null, { rows: 24, width: 128, kUnroll: 4 }, { rows: 32, width: 64, kUnroll: 8 }, { rows: 8, width: 64, kUnroll: 4, columnBlocks: 2 }] as const) {
        setDirectMatmulShape(shape);
        const c = matmul(device.tensor(a, [batch, m, k]), device.tensor(b, [k, n]), { bias: device.tensor(bias, [n]) });
        expectClose(await c.read(), expected, TOLERANCE.f32, `direct ${JSON.stringify(shape)}`);
      }
    } finally {
      setDirectMatmulShape(null);
      setMatmulKernelPreference('auto');
    }
  });

  it('accumulates the Hessian with the tiled SYRK path', async () => {
    setMatmulKernelPreference('tiled');
    const rows = 50;
    const d = 96;
    const x = seededValues(rows * d, 9);
    const hessian = new HessianAccumulator(device, d);
    hessian.add(device.tensor(x.subarray(0, 20 * d), [20, d]));
    hessian.add(device.tensor(x.subarray(20 * d), [30, d]));
    expectClose(await hessian.hessian.read(), reference.hessian(x, rows, d, rows), { atol: 1e-5, rtol: 1e-4 }, 'H');
    hessian.dispose();
    setMatmulKernelPreference('auto');
  });

  it('accumulates a Hessian larger than one binding', async () => {
    // d = 40 gives a 6,400-byte H on the small device, so the product is chunked and H is never bound whole.
    const rows = 50;
    const d = 40;
    const x = seededValues(rows * d, 13);
    const dtypes = small.supportsDType('f16') ? (['f32', 'f16'] as const) : (['f32'] as const);
    for (const dtype of dtypes) {
      // The reference gets the same f16-rounded inputs as the device.
      const values = dtype === 'f16' ? f16BitsToF32Array(f32ArrayToF16Bits(x)) : x;
      const hessian = new HessianAccumulator(small, d);
      hessian.add(small.tensor(x.subarray(0, 20 * d), [20, d], dtype));
      hessian.add(small.tensor(x.subarray(20 * d), [30, d], dtype));
      const tolerance = { atol: 1e-5, rtol: 1e-4 };
      expectClose(await hessian.hessian.read(), reference.hessian(values, rows, d, rows), tolerance, `H ${dtype}`);
      hessian.dispose();
    }
  });

  it('runs the direct matmul without subgroups', async () => {
    // The direct kernel shares A through subgroup broadcasts when it can, so
    // a device without subgroups is the only way to run its plain variant.
    const plain = await createWebGpuDevice({ withoutFeatures: ['subgroups'] });
    try {
      const [m, k, n] = [37, 20, 44];
      const a = seededValues(m * k, 11);
      const b = seededValues(k * n, 12);
      setMatmulKernelPreference('direct');
      const c = matmul(plain.tensor(a, [m, k]), plain.tensor(b, [k, n]));
      expectClose(await c.read(), reference.matmul({ a, b, batch: 1, batchB: 1, m, k, n }), TOLERANCE.f32, 'direct without subgroups');

      // The same A stored transposed ([k, m]) takes the kernel's transA path.
      const aT = new Float32Array(k * m);
      for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) aT[t * m + i] = a[i * k + t];
      const cT = matmul(plain.tensor(aT, [k, m]), plain.tensor(b, [k, n]), { transA: true });
      expectClose(await cT.read(), reference.matmul({ a: aT, b, batch: 1, batchB: 1, m, k, n, transA: true }), TOLERANCE.f32, 'direct transA without subgroups');
    } finally {
      setMatmulKernelPreference('auto');
      plain.dispose();
    }
  });

  it('reduces rows without subgroups', async () => {
    const plain = await createWebGpuDevice({ withoutFeatures: ['subgroups', 'shader-f16'] });
    try {
      expect(plain.features.has('subgroups')).toBe(false);
      expect(plain.supportsDType('f16')).toBe(false);
      const x = seededValues(5 * 130, 4);
      for (const op of ['sum', 'max', 'meanSquare'] as const) {
        const out = reduceRows(op, plain.tensor(x, [5, 130]));
        expectClose(await out.read(), reference.reduceRows(op, x, 5, 130), TOLERANCE.f32, op);
      }
    } finally {
      plain.dispose();
    }
  });

  it('recycles buffers of disposed tensors after submit', async () => {
    const before = device.pool.allocatedBytes;
    for (let i = 0; i < 50; i++) {
      const t = device.tensor(seededValues(1000, i), [1000]);
      const doubled = add(t, t);
      t.dispose();
      doubled.dispose();
    }
    await device.sync();
    expect(device.pool.allocatedBytes - before).toBeLessThan(50 * 4096);
  });

  it('reports shader errors as errors instead of hanging', async () => {
    const broken = await createWebGpuDevice();
    try {
      const out = broken.createTensor([4], 'f32');
      broken.dispatch({ key: 'test:broken', code: () => 'this is not WGSL', bindings: [], uniforms: null, workgroups: [1] });
      await expect(out.read()).rejects.toThrow(/uncaptured GPUValidationError/);
    } finally {
      broken.dispose();
    }
  });
});

describe.skipIf(!gpuAvailable && !process.env.CI)('webgpu failures', () => {
  it('reports a lost device on the next call', async () => {
    const device = await createWebGpuDevice();
    try {
      const tensor = device.tensor([1, 2], [2]);
      device.gpu.destroy();
      await device.gpu.lost;
      expect(() => device.zeros([2])).toThrow(DeviceLostError);
      expect(() => add(tensor, tensor)).toThrow(/device .* was lost \(destroyed\)/);
      await expect(tensor.read()).rejects.toThrow(DeviceLostError);
    } finally {
      device.dispose();
    }
  });

  it('raises LimitError where splitting is missing', async () => {
    const device = await createWebGpuDevice({ planningLimits: { maxStorageBufferBindingSize: 4096 } });
    try {
      // A broadcast operand is bound whole, so one larger than a binding is rejected.
      const addOversizedBroadcast = (): unknown => add(device.zeros([1100, 2]), device.zeros([1100, 1]));
      expect(addOversizedBroadcast).toThrow(LimitError);
      expect(addOversizedBroadcast).toThrow(/add: broadcast input f32 tensor #\d+ \[1100, 1\] on webgpu exceeds maxStorageBufferBindingSize 4096; split it first/);
    } finally {
      device.dispose();
    }
  });

  it('rejects an unknown adapter name with NoAdapterError', async () => {
    await disposeDevices();
    await expect(createWebGpuDevice({ flags: ['adapter=no-such-adapter'] })).rejects.toBeInstanceOf(NoAdapterError);
    // The failed instance was dropped, so a plain request works again.
    const device = await createWebGpuDevice();
    expect(device.disposed).toBe(false);
    device.dispose();
  });
});
