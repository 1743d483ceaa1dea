/** Row-wise softmax and log-softmax with their closed-form backward passes. */

export function softmaxForward(x: Float32Array, dim: number, log: boolean): Float32Array {
  const y = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += dim) {
    let max = -Infinity;
    for (let c = 0; c < dim; c++) max = Math.max(max, x[base + c]);
    let sum = 0;
    for (let c = 0; c < dim; c++) sum += Math.exp(x[base + c] - max);
    const logSum = Math.log(sum);
    for (let c = 0; c < dim; c++) {
      y[base + c] = log ? x[base + c] - max - logSum : Math.exp(x[base + c] - max) / sum;
    }
  }
  return y;
}

/** Softmax: dx = y ⊙ (dy − Σ dy⊙y). Log-softmax: dx = dy − exp(y)·Σ dy. */
export function softmaxBackward(dy: Float32Array, y: Float32Array, dim: number, log: boolean): Float32Array {
  const dx = new Float32Array(y.length);
  for (let base = 0; base < y.length; base += dim) {
    let sum = 0;
    for (let c = 0; c < dim; c++) sum += log ? dy[base + c] : dy[base + c] * y[base + c];
    for (let c = 0; c < dim; c++) {
      dx[base + c] = log ? dy[base + c] - Math.exp(y[base + c]) * sum : y[base + c] * (dy[base + c] - sum);
    }
  }
  return dx;
}
