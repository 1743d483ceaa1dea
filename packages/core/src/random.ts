/**
 * A portable, seeded PRNG: xoshiro128** seeded through splitmix32.
 *
 * Results depend only on the seed, never on the JavaScript engine, so the
 * same seed gives the same calibration windows, initial weights and samples on
 * every machine. Math.random is never used for anything that must reproduce.
 */

function splitmix32(state: number): [next: number, output: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Serializable generator state, for checkpoints that must resume bit for bit. */
export type RandomState = [number, number, number, number];

export class Random {
  private s: Uint32Array;

  /** Seeds from a 32-bit integer; seeds outside that range are reduced modulo 2^32. */
  constructor(seed: number | RandomState = 0) {
    this.s = new Uint32Array(4);
    if (Array.isArray(seed)) {
      this.s.set(seed);
      return;
    }
    if (!Number.isFinite(seed)) throw new RangeError(`Random: seed must be a finite number, got ${seed}`);
    let state = Math.trunc(seed) | 0;
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(state);
      state = next;
      this.s[i] = out;
    }
    // xoshiro128** must not start from the all-zero state.
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [min, max] inclusive, without modulo bias. */
  int(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
      throw new RangeError(`Random.int: invalid range [${min}, ${max}]`);
    }
    const span = max - min + 1;
    if (span > 4294967296) throw new RangeError(`Random.int: range [${min}, ${max}] exceeds 2^32 values`);
    if (span === 4294967296) return min + this.nextUint32();
    // Rejection sampling: drop draws from the incomplete last bucket.
    const limit = Math.floor(4294967296 / span) * span;
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return min + (x % span);
    }
  }

  /** Standard normal draw (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  getState(): RandomState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }
}
