/**
 * RMSNorm and LayerNorm on Float32Array rows, forward and backward.
 * Forward saves per-row statistics (inverse RMS, or mean and inverse std) so the
 * backward pass needs no second reduction over x.
 */

export interface RmsNormForward {
  y: Float32Array;
  /** 1 / sqrt(mean(x²) + eps) per row. */
  invRms: Float32Array;
}

export function rmsNormForward(x: Float32Array, weight: Float32Array, dim: number, eps: number): RmsNormForward {
  const rows = x.length / dim;
  const y = new Float32Array(x.length);
  const invRms = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let squares = 0;
    for (let c = 0; c < dim; c++) squares += x[base + c] * x[base + c];
    const inv = 1 / Math.sqrt(squares / dim + eps);
    invRms[r] = inv;
    for (let c = 0; c < dim; c++) y[base + c] = x[base + c] * inv * weight[c];
  }
  return { y, invRms };
}

/**
 * With xhat = x·inv: dx = inv·(g − xhat·mean(g·xhat)) where g = dy·w, and dw = Σ_rows dy·xhat.
 */
export function rmsNormBackward(
  dy: Float32Array,
  x: Float32Array,
  weight: Float32Array,
  invRms: Float32Array,
  dim: number,
): { dx: Float32Array; dWeight: Float32Array } {
  const rows = x.length / dim;
  const dx = new Float32Array(x.length);
  const dWeight = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    const inv = invRms[r];
    let dot = 0;
    for (let c = 0; c < dim; c++) {
      const xhat = x[base + c] * inv;
      dot += dy[base + c] * weight[c] * xhat;
      dWeight[c] += dy[base + c] * xhat;
    }
    dot /= dim;
    for (let c = 0; c < dim; c++) {
      dx[base + c] = inv * (dy[base + c] * weight[c] - x[base + c] * inv * dot);
    }
  }
  return { dx, dWeight: Float32Array.from(dWeight) };
}

export interface LayerNormForward {
  y: Float32Array;
  mean: Float32Array;
  /** 1 / sqrt(var + eps) per row. */
  invStd: Float32Array;
}

export function layerNormForward(
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | undefined,
  dim: number,
  eps: number,
): LayerNormForward {
  const rows = x.length / dim;
  const y = new Float32Array(x.length);
  const mean = new Float32Array(rows);
  const invStd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sum = 0;
    for (let c = 0; c < dim; c++) sum += x[base + c];
    const mu = sum / dim;
    let squares = 0;
    for (let c = 0; c < dim; c++) squares += (x[base + c] - mu) ** 2;
    const inv = 1 / Math.sqrt(squares / dim + eps);
    mean[r] = mu;
    invStd[r] = inv;
    for (let c = 0; c < dim; c++) y[base + c] = (x[base + c] - mu) * inv * weight[c] + (bias ? bias[c] : 0);
  }
  return { y, mean, invStd };
}

/** dx = inv·(g − mean(g) − xhat·mean(g·xhat)) with g = dy·w; dw = Σ dy·xhat; db = Σ dy. */
export function layerNormBackward(
  dy: Float32Array,
  x: Float32Array,
  weight: Float32Array,
  mean: Float32Array,
  invStd: Float32Array,
  dim: number,
): { dx: Float32Array; dWeight: Float32Array; dBias: Float32Array } {
  const rows = x.length / dim;
  const dx = new Float32Array(x.length);
  const dWeight = new Float64Array(dim);
  const dBias = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    const mu = mean[r];
    const inv = invStd[r];
    let sumG = 0;
    let sumGX = 0;
    for (let c = 0; c < dim; c++) {
      const xhat = (x[base + c] - mu) * inv;
      const g = dy[base + c] * weight[c];
      sumG += g;
      sumGX += g * xhat;
      dWeight[c] += dy[base + c] * xhat;
      dBias[c] += dy[base + c];
    }
    sumG /= dim;
    sumGX /= dim;
    for (let c = 0; c < dim; c++) {
      const xhat = (x[base + c] - mu) * inv;
      dx[base + c] = inv * (dy[base + c] * weight[c] - sumG - xhat * sumGX);
    }
  }
  return { dx, dWeight: Float32Array.from(dWeight), dBias: Float32Array.from(dBias) };
}
