import { describe, expect, it } from 'vitest';
import { add, getCpuDevice, matmul } from '../src/index.js';

describe('cpu device memory sharing', () => {
  const cpu = getCpuDevice();

  it('adopt uses the caller array and readShared returns the result array itself', async () => {
    const data = Float32Array.from([1, 2, 3, 4]);
    const adopted = cpu.adopt(data, [2, 2], 'f32');
    data[0] = 10;
    const sum = add(adopted, adopted);
    const shared = await cpu.readShared(sum);
    expect([...shared]).toEqual([20, 4, 6, 8]);
    expect(await cpu.readShared(sum)).toBe(shared);
    expect(await sum.read()).not.toBe(shared);
    sum.dispose();
    adopted.dispose();
  });

  it('readShared waits for a queued product', async () => {
    const left = cpu.tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3), [64, 64]);
    const identity = cpu.tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 65 === 0 ? 1 : 0)), [64, 64]);
    const product = matmul(left, identity);
    expect([...(await cpu.readShared(product))]).toEqual([...(await left.read())]);
    for (const tensor of [left, identity, product]) tensor.dispose();
  });
});
