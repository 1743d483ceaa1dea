/**
 * Pointwise activations and their derivatives, shared by the cpu kernels.
 * The erf form of GELU uses Abramowitz & Stegun 7.1.26 (absolute error below
 * 1.5e-7), the same approximation the WGSL kernels use because WGSL has no erf.
 */
import type { ActivationName } from '../reference.js';

export function erfApprox(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function activate(name: ActivationName, x: number): number {
  switch (name) {
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'relu':
      return x > 0 ? x : 0;
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'gelu_erf':
      return 0.5 * x * (1 + erfApprox(x / Math.SQRT2));
  }
}

/** d activation / dx at x. ReLU's derivative at 0 is taken as 0. */
export function activateDerivative(name: ActivationName, x: number): number {
  switch (name) {
    case 'silu': {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'gelu_tanh': {
      const inner = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
      const t = Math.tanh(inner);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
    }
    case 'gelu_erf':
      return 0.5 * (1 + erfApprox(x / Math.SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
  }
}

export function activationForward(name: ActivationName, x: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = activate(name, x[i]);
  return y;
}

export function activationBackward(name: ActivationName, dy: Float32Array, x: Float32Array): Float32Array {
  const dx = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) dx[i] = dy[i] * activateDerivative(name, x[i]);
  return dx;
}

/** SwiGLU-style gated unit: activation(gate) ⊙ up. */
export function gluForward(name: ActivationName, gate: Float32Array, up: Float32Array): Float32Array {
  const y = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) y[i] = activate(name, gate[i]) * up[i];
  return y;
}

export function gluBackward(
  name: ActivationName,
  dy: Float32Array,
  gate: Float32Array,
  up: Float32Array,
): { dGate: Float32Array; dUp: Float32Array } {
  const dGate = new Float32Array(gate.length);
  const dUp = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    dGate[i] = dy[i] * up[i] * activateDerivative(name, gate[i]);
    dUp[i] = dy[i] * activate(name, gate[i]);
  }
  return { dGate, dUp };
}
