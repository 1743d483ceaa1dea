/**
 * Importance scores: a larger score means a weight matters more, so the
 * selectors prune the smallest scores. All return a new f64 matrix shaped
 * like the weight.
 */
import { InputError } from '@sculpt/core';
import type { Matrix } from './matrix.js';

function checkScaler(weight: Matrix, scaler: ArrayLike<number>): void {
  if (scaler.length !== weight.cols) {
    throw new InputError(`activation statistic has ${scaler.length} columns but the weight has ${weight.cols} inputs`);
  }
}

/** |W_ij|. */
export function magnitudeScore(weight: Matrix): Matrix<Float64Array> {
  const data = new Float64Array(weight.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.abs(weight.data[i]);
  return { rows: weight.rows, cols: weight.cols, data };
}

/** Wanda: |W_ij|·√s_j with s Wanda's row scaler (mean squared activation of input j). */
export function wandaScore(weight: Matrix, scaler: ArrayLike<number>): Matrix<Float64Array> {
  checkScaler(weight, scaler);
  const norms = Array.from(scaler, (s) => Math.sqrt(s));
  const data = new Float64Array(weight.data.length);
  for (let r = 0; r < weight.rows; r++) {
    const row = r * weight.cols;
    for (let c = 0; c < weight.cols; c++) data[row + c] = Math.abs(weight.data[row + c]) * norms[c];
  }
  return { rows: weight.rows, cols: weight.cols, data };
}

/**
 * RIA (relative importance and activations):
 * (|W_ij| / Σ_i |W_ij| + |W_ij| / Σ_j |W_ij|) · (√s_j)^a, with a = 0.5 by
 * default. The first sum runs over the column (all outputs fed by input j),
 * the second over the row (all inputs of output i).
 */
export function riaScore(weight: Matrix, scaler: ArrayLike<number>, exponent = 0.5): Matrix<Float64Array> {
  checkScaler(weight, scaler);
  const { rows, cols } = weight;
  const columnSums = new Float64Array(cols);
  const rowSums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const magnitude = Math.abs(weight.data[r * cols + c]);
      columnSums[c] += magnitude;
      rowSums[r] += magnitude;
    }
  }

  const activation = Array.from(scaler, (s) => Math.pow(Math.sqrt(s), exponent));
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const magnitude = Math.abs(weight.data[r * cols + c]);
      // A zero row or column sum means every weight in it is zero; its relative importance is 0.
      const relative = (columnSums[c] > 0 ? magnitude / columnSums[c] : 0) + (rowSums[r] > 0 ? magnitude / rowSums[r] : 0);
      data[r * cols + c] = relative * activation[c];
    }
  }
  return { rows, cols, data };
}
