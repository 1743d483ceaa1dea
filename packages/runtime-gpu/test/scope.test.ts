import { describe, expect, it } from 'vitest';
import { add, DisposedError, getCpuDevice, keep, scope } from '../src/index.js';

describe('scope', () => {
  const cpu = getCpuDevice();

  it('disposes intermediates and keeps the result', async () => {
    let intermediate = cpu.tensor([1], [1]);
    const result = scope(() => {
      intermediate = cpu.tensor([1, 2], [2]);
      return add(intermediate, intermediate);
    });
    expect(intermediate.disposed).toBe(true);
    expect(result.disposed).toBe(false);
    expect([...(await result.read())]).toEqual([2, 4]);
  });

  it('keeps tensors nested in arrays and objects', () => {
    const { pair, other } = scope(() => {
      const a = cpu.tensor([1], [1]);
      const b = cpu.tensor([2], [1]);
      cpu.tensor([3], [1]);
      return { pair: [a, b], other: new Map([['x', cpu.tensor([4], [1])]]) };
    });
    expect(pair.every((tensor) => !tensor.disposed)).toBe(true);
    expect(other.get('x')!.disposed).toBe(false);
  });

  it('follows async functions', async () => {
    let inner = cpu.tensor([0], [1]);
    const result = await scope(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      inner = cpu.tensor([5], [1]);
      return add(inner, inner);
    });
    expect(inner.disposed).toBe(true);
    expect([...(await result.read())]).toEqual([10]);
  });

  it('moves kept tensors to the enclosing scope', () => {
    let survivor = cpu.tensor([0], [1]);
    scope(() => {
      survivor = scope(() => cpu.tensor([1], [1]));
      expect(survivor.disposed).toBe(false);
    });
    expect(survivor.disposed).toBe(true);
  });

  it('keep() exempts a tensor', () => {
    const kept = scope(() => {
      keep(cpu.tensor([1], [1]));
      return cpu.tensor([2], [1]);
    });
    expect(kept.disposed).toBe(false);
  });

  it('disposes on a thrown error', () => {
    let leaked = cpu.tensor([0], [1]);
    expect(() =>
      scope(() => {
        leaked = cpu.tensor([1], [1]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(leaked.disposed).toBe(true);
  });

  it('raises DisposedError on use after dispose', () => {
    const tensor = cpu.tensor([1], [1]);
    tensor.dispose();
    expect(() => add(tensor, tensor)).toThrow(DisposedError);
    expect(() => add(tensor, tensor)).toThrow(/add: f32 tensor #\d+ \[1\] on cpu was used after dispose/);
  });
});
