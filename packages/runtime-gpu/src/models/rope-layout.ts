/**
 * Row permutations of q/k projections between the two RoPE layouts. Rotating
 * channel pairs (2i, 2i+1) of a head (llama2.c) equals rotating pairs
 * (i, i + headDim/2) (Hugging Face) once the rows of wq and wk are permuted
 * this way; attention scores do not change because q and k move together.
 */

/** Reorders the rows of an [heads·headDim, cols] matrix from the interleaved to the half-split layout. */
export function interleavedToHalf(matrix: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  return permuteRows(matrix, heads, headDim, cols, true);
}

/** Inverse of `interleavedToHalf`. */
export function halfToInterleaved(matrix: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  return permuteRows(matrix, heads, headDim, cols, false);
}

function permuteRows(matrix: Float32Array, heads: number, headDim: number, cols: number, toHalf: boolean): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(matrix.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const interleavedRow = h * headDim + 2 * i + j;
        const halfRow = h * headDim + j * half + i;
        const [from, to] = toHalf ? [interleavedRow, halfRow] : [halfRow, interleavedRow];
        out.set(matrix.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}
