import { describe, expect, it } from 'vitest';
import { DeviceMismatchError, getCpuDevice, KernelNotFoundError, listKernels, registerKernel, runKernel } from '../src/index.js';

describe('kernel registry', () => {
  const cpu = getCpuDevice();

  it('lists the built-in cpu kernels', () => {
    const names = listKernels('cpu');
    for (const name of ['matmul', 'binary', 'unary', 'reduceRows', 'transpose', 'hessianUpdate', 'wandaScalerUpdate', 'cholesky']) {
      expect(names).toContain(name);
    }
  });

  it('rejects duplicate registration', () => {
    expect(() => registerKernel({ name: 'matmul', device: 'cpu', run: () => [] })).toThrow(/already registered/);
  });

  it('allows an explicit override', () => {
    registerKernel({ name: 'test.identity', device: 'cpu', run: (inputs) => [inputs[0]] });
    registerKernel({ name: 'test.identity', device: 'cpu', run: (inputs) => [inputs[0], inputs[0]] }, { override: true });
    const x = cpu.tensor([1], [1]);
    expect(runKernel('test.identity', [x])).toHaveLength(2);
  });

  it('names registered kernels when one is missing', () => {
    const x = cpu.tensor([1], [1]);
    expect(() => runKernel('noSuchKernel', [x])).toThrow(KernelNotFoundError);
    expect(() => runKernel('noSuchKernel', [x])).toThrow(/registered: .*matmul/);
  });

  it('requires a device when there are no inputs', () => {
    expect(() => runKernel('matmul', [])).toThrow(DeviceMismatchError);
  });
});
