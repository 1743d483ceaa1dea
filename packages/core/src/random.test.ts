import { describe, expect, it } from 'vitest';
import { Random } from './random.js';

describe('Random', () => {
  it('repeats the same sequence for the same seed', () => {
    const a = new Random(42);
    const b = new Random(42);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    const ys = Array.from({ length: 8 }, () => b.nextUint32());
    expect(xs).toEqual(ys);
  });

  it('gives different sequences for different seeds', () => {
    expect(new Random(0).nextUint32()).not.toBe(new Random(1).nextUint32());
  });

  it('matches the pinned first outputs for seed 0', () => {
    // Pinned so that a change to the generator, which would change every
    // calibration set drawn with a seed, fails here first.
    const r = new Random(0);
    const first = [r.nextUint32(), r.nextUint32(), r.nextUint32()];
    expect(first).toMatchInlineSnapshot(`
      [
        3809008728,
        1133695204,
        53579671,
      ]
    `);
  });

  it('draws integers inside the inclusive range', () => {
    const r = new Random(7);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 5000; i++) counts[r.int(0, 4)] += 1;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });

  it('restores from a saved state', () => {
    const r = new Random(3);
    r.nextUint32();
    const copy = new Random(r.getState());
    expect(copy.nextUint32()).toBe(r.nextUint32());
  });

  it('rejects an empty range', () => {
    expect(() => new Random(1).int(3, 2)).toThrow(/invalid range \[3, 2\]/);
  });
});
