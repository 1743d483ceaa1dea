/**
 * Rotary position encoding on x [tokens, heads * headDim]. The backward pass is
 * the same rotation by the negated angle, because a rotation's transpose is its inverse.
 */
import type { RopeLayout } from '../reference.js';

export interface RopeOptions {
  heads: number;
  headDim: number;
  theta: number;
  layout: RopeLayout;
  /** Linear position interpolation: positions are divided by this factor. */
  scaling: number;
}

export function ropeApply(x: Float32Array, positions: Int32Array, options: RopeOptions, direction: 1 | -1): Float32Array {
  const { heads, headDim, theta, layout, scaling } = options;
  const half = headDim / 2;
  const out = new Float32Array(x.length);
  const inverseFrequency = new Float64Array(half);
  for (let i = 0; i < half; i++) inverseFrequency[i] = Math.pow(theta, (-2 * i) / headDim);

  for (let t = 0; t < positions.length; t++) {
    const position = positions[t] / scaling;
    for (let i = 0; i < half; i++) {
      const angle = position * inverseFrequency[i];
      const cos = Math.cos(angle);
      const sin = direction * Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const base = (t * heads + h) * headDim;
        const a = layout === 'interleaved' ? base + 2 * i : base + i;
        const b = layout === 'interleaved' ? a + 1 : a + half;
        const xa = x[a];
        const xb = x[b];
        out[a] = xa * cos - xb * sin;
        out[b] = xa * sin + xb * cos;
      }
    }
  }
  return out;
}
