/**
 * The benchmark baseline: Wanda and SparseGPT written the straightforward way
 * on top of onnxruntime matmuls (the CPU device's `matmul`), as a line-by-line
 * port of the PyTorch reference would be. XᵀX and the lazy batch update are
 * ORT products. `torch.linalg.cholesky`, `cholesky_inverse` and the upper
 * Cholesky are plain unblocked loops plus an ORT product, and rows are sorted
 * with comparators.
 */
import { getCpuDevice, matmul } from '@sculpt/runtime-gpu';

const device = getCpuDevice();

async function product(a: Float32Array, m: number, k: number, b: Float32Array, n: number, transA = false): Promise<Float32Array> {
  const left = device.tensor(a, transA ? [k, m] : [m, k]);
  const right = device.tensor(b, [k, n]);
  const out = matmul(left, right, { transA });
  try {
    return Float32Array.from(await out.read());
  } finally {
    left.dispose();
    right.dispose();
    out.dispose();
  }
}

/** Wanda's row scaler: the running mean over sequences of each column's sum of squares. */
export function baselineScaler(inputs: Float32Array[], tokens: number, cols: number): Float64Array {
  const scaler = new Float64Array(cols);
  inputs.forEach((x, n) => {
    for (let j = 0; j < cols; j++) scaler[j] *= n / (n + 1);
    for (let t = 0; t < tokens; t++) for (let j = 0; j < cols; j++) scaler[j] += (x[t * cols + j] * x[t * cols + j]) / (n + 1);
  });
  return scaler;
}

/** Wanda on one layer given its scaler: |W|·√s, a sort of every row. */
export function baselineWanda(weight: ArrayLike<number>, rows: number, cols: number, scaler: ArrayLike<number>, sparsity: number): Float32Array {
  const out = Float32Array.from(weight);
  const cut = Math.floor(cols * sparsity);
  for (let r = 0; r < rows; r++) {
    const entries = Array.from({ length: cols }, (_, c) => ({ c, score: Math.abs(weight[r * cols + c]) * Math.sqrt(scaler[c]) }));
    entries.sort((a, b) => a.score - b.score || a.c - b.c);
    for (let k = 0; k < cut; k++) out[r * cols + entries[k].c] = 0;
  }
  return out;
}

function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let sum = a[j * n + j];
    for (let p = 0; p < j; p++) sum -= l[j * n + p] * l[j * n + p];
    if (!(sum > 0)) throw new Error(`not positive definite at ${j}`);
    const d = Math.sqrt(sum);
    l[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let value = a[i * n + j];
      for (let p = 0; p < j; p++) value -= l[i * n + p] * l[j * n + p];
      l[i * n + j] = value / d;
    }
  }
  return l;
}

/** H = (2/N) Σ X_bᵀ X_b, each product through ORT. */
export async function baselineHessian(inputs: Float32Array[], tokens: number, cols: number): Promise<Float64Array> {
  const h = new Float64Array(cols * cols);
  for (const x of inputs) {
    const xtx = await product(x, cols, tokens, x, cols, true);
    for (let i = 0; i < h.length; i++) h[i] += (2 / inputs.length) * xtx[i];
  }
  return h;
}

/** SparseGPT on one layer given its Hessian, unstructured, blocksize 128, percdamp 0.01. */
export async function baselineSparseGpt(weight: ArrayLike<number>, rows: number, cols: number, hessian: ArrayLike<number>, sparsity: number): Promise<Float32Array> {
  const h = Float64Array.from(hessian);
  let mean = 0;
  for (let j = 0; j < cols; j++) mean += h[j * cols + j] / cols;
  for (let j = 0; j < cols; j++) {
    if (h[j * cols + j] === 0) h[j * cols + j] = 1;
    h[j * cols + j] += 0.01 * mean;
  }

  // Hinv = cholesky_inverse(cholesky(H)); U = cholesky(Hinv, upper=True).
  const l = cholesky(h, cols);
  const lInverse = new Float64Array(cols * cols);
  for (let j = 0; j < cols; j++) {
    lInverse[j * cols + j] = 1 / l[j * cols + j];
    for (let i = j + 1; i < cols; i++) {
      let sum = 0;
      for (let p = j; p < i; p++) sum += l[i * cols + p] * lInverse[p * cols + j];
      lInverse[i * cols + j] = -sum / l[i * cols + i];
    }
  }
  const hinv32 = await product(Float32Array.from(lInverse), cols, cols, Float32Array.from(lInverse), cols, true);
  const lower = cholesky(Float64Array.from(hinv32), cols);
  const upper = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) upper[i * cols + j] = lower[j * cols + i];

  const w = Float64Array.from(weight);
  const blockSize = 128;
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const width = i2 - i1;
    const scores: number[] = [];
    for (let r = 0; r < rows; r++) for (let i = i1; i < i2; i++) scores.push((w[r * cols + i] / upper[i * cols + i]) ** 2);
    const threshold = [...scores].sort((a, b) => a - b)[Math.floor(scores.length * sparsity)];
    const errors = new Float32Array(rows * width);
    for (let i = i1; i < i2; i++) {
      const d = upper[i * cols + i];
      for (let r = 0; r < rows; r++) {
        const value = w[r * cols + i];
        if ((value / d) ** 2 > threshold) continue;
        const err = value / d;
        for (let k = i; k < i2; k++) w[r * cols + k] -= err * upper[i * cols + k];
        w[r * cols + i] = 0;
        errors[r * width + (i - i1)] = err;
      }
    }
    if (i2 < cols) {
      const slice = new Float32Array(width * (cols - i2));
      for (let p = 0; p < width; p++) for (let j = i2; j < cols; j++) slice[p * (cols - i2) + j - i2] = upper[(i1 + p) * cols + j];
      const update = await product(errors, rows, width, slice, cols - i2);
      for (let r = 0; r < rows; r++) for (let j = i2; j < cols; j++) w[r * cols + j] -= update[r * (cols - i2) + j - i2];
    }
  }
  return Float32Array.from(w);
}
