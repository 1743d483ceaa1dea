/** AdamW over flat Float32Array parameter and moment buffers, updated in place. */

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, used for bias correction. */
  step: number;
  /** Multiplies every gradient first: 1/lossScale × clip factor. */
  gradScale: number;
}

export function adamwStep(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, hyper: AdamWHyper): void {
  const { lr, beta1, beta2, eps, weightDecay, step, gradScale } = hyper;
  const correction1 = 1 - beta1 ** step;
  const correction2 = 1 - beta2 ** step;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] * gradScale;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const update = m[i] / correction1 / (Math.sqrt(v[i] / correction2) + eps);
    param[i] -= lr * (update + weightDecay * param[i]);
  }
}
