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
  getDevice,
  HessianAccumulator,
  LimitError,
  matmul,
  NoAdapterError,
  reduceRows,
  reference,
  setMatmulKernelPreference,
  sumRows,
  unary,
  type WebGpuDevice,
} from '../src/index.js';
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
      expect(() => sumRows(device.zeros([100, 30]))).toThrow(LimitError);
      expect(() => sumRows(device.zeros([100, 30]))).toThrow(/reduceRows\(sum\): f32 tensor #\d+ \[100, 30\] on webgpu needs 12000 bytes, over maxStorageBufferBindingSize 4096/);
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
