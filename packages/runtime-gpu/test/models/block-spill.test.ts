/** Spill files of changed blocks (src/models/block-spill.ts): round trip, a damaged file, and cleanup. */
import { existsSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlockSpill } from '../../src/models/block-spill.js';
import type { BlockWeights } from '../../src/models/weights.js';

function block(seed: number): BlockWeights {
  const layer = (out: number, inFeatures: number) => ({
    outFeatures: out,
    inFeatures,
    weight: Float32Array.from({ length: out * inFeatures }, (_, i) => Math.sin(seed + i)),
  });
  return { linears: new Map([['q', layer(3, 5)], ['down', layer(5, 7)]]), norms: new Map() };
}

describe('BlockSpill', () => {
  const spill = new BlockSpill();
  afterEach(() => spill.dispose());

  it('restores spilled weights exactly', () => {
    const original = block(1);
    spill.write(4, original);
    expect(spill.has(4)).toBe(true);
    expect(spill.has(3)).toBe(false);

    const fromFile = block(2);
    spill.restore(4, fromFile);
    for (const [name, layer] of original.linears) expect(Array.from(fromFile.linears.get(name)!.weight)).toEqual(Array.from(layer.weight));
  });

  it('rejects a truncated spill file', () => {
    spill.write(0, block(1));
    truncateSync(join(spill.folder!, 'block-0.f32'), 20);
    expect(() => spill.restore(0, block(2))).toThrow(/shorter than block 0's weights/);
  });

  it('dispose removes the folder', () => {
    spill.write(1, block(1));
    const folder = spill.folder!;
    expect(existsSync(folder)).toBe(true);
    spill.dispose();
    expect(existsSync(folder)).toBe(false);
    expect(spill.has(1)).toBe(false);
  });
});
