/**
 * Float64 reference of the max/min reduction over one axis, shared by the cpu
 * kernel and the tests. The input is viewed as [outer, length, inner], where
 * `length` is the reduced axis.
 */

export type ExtremumKind = 'max' | 'min';

export interface ExtremumLayout {
  outer: number;
  /** Size of the reduced axis. */
  length: number;
  inner: number;
}

/** Splits `shape` around `axis` into the [outer, length, inner] view. */
export function extremumLayout(shape: readonly number[], axis: number): ExtremumLayout {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { outer, length: shape[axis], inner };
}

/**
 * Returns the max (or min) of every [outer, ·, inner] fiber and the index of
 * the first element that attains it. Comparisons with NaN are false, so a NaN
 * is picked only when it is the first element of its fiber.
 */
export function extremumForward(
  x: ArrayLike<number>,
  layout: ExtremumLayout,
  kind: ExtremumKind,
): { values: Float64Array; indices: Int32Array } {
  const { outer, length, inner } = layout;
  const values = new Float64Array(outer * inner);
  const indices = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      let best = x[base];
      let bestIndex = 0;
      for (let j = 1; j < length; j++) {
        const value = x[base + j * inner];
        // Strict comparisons keep the first index on ties.
        if (kind === 'max' ? value > best : value < best) {
          best = value;
          bestIndex = j;
        }
      }
      values[o * inner + i] = best;
      indices[o * inner + i] = bestIndex;
    }
  }
  return { values, indices };
}

/** Routes each output gradient to the input element that was picked; every other element gets 0. */
export function extremumBackward(dy: ArrayLike<number>, indices: ArrayLike<number>, layout: ExtremumLayout): Float64Array {
  const { outer, length, inner } = layout;
  const dx = new Float64Array(outer * length * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const out = o * inner + i;
      dx[o * length * inner + indices[out] * inner + i] = dy[out];
    }
  }
  return dx;
}
