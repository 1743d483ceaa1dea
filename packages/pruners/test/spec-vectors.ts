/** Closed-form inputs of the numerical test kit: a 4×8 weight and 2 sequences of 4 tokens. */
import { matrix, type Matrix } from '../src/algorithms/matrix.js';
import type { LayerInput } from '../src/algorithms/collectors.js';

export function specWeight(): Matrix<Float64Array> {
  const w = matrix(4, 8);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 8; c++) w.data[r * 8 + c] = ((7 * r + 3 * c) % 11) - 5 + 0.1 * r + 0.01 * c;
  return w;
}

/** Token g = 4b + t of sequence b: X[g][c] = ((5g + 2c) mod 7) − 3 + 0.05·g. */
export function specInputs(columnScale: number[] = []): LayerInput[] {
  const sequences: LayerInput[] = [];
  for (let b = 0; b < 2; b++) {
    const data = new Float64Array(4 * 8);
    for (let t = 0; t < 4; t++) {
      const g = 4 * b + t;
      for (let c = 0; c < 8; c++) data[t * 8 + c] = (((5 * g + 2 * c) % 7) - 3 + 0.05 * g) * (columnScale[c] ?? 1);
    }
    sequences.push({ tokens: 4, features: 8, data });
  }
  return sequences;
}

/** All 8 tokens stacked, `8 × 8`. */
export function stackedInputs(): Float64Array {
  const out = new Float64Array(64);
  specInputs().forEach((input, b) => out.set(input.data, b * 32));
  return out;
}

/** ‖X(W − Ŵ)ᵀ‖²_F over the 8 tokens. */
export function reconstructionError(original: Matrix, pruned: Matrix): number {
  const x = stackedInputs();
  let total = 0;
  for (let g = 0; g < 8; g++) {
    for (let r = 0; r < original.rows; r++) {
      let y = 0;
      for (let c = 0; c < 8; c++) y += x[g * 8 + c] * (original.data[r * 8 + c] - pruned.data[r * 8 + c]);
      total += y * y;
    }
  }
  return total;
}
