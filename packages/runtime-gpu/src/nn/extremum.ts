/**
 * Differentiable max and min over one axis. The forward kernel also returns
 * the index of the element it picked (the first one on ties), and the
 * gradient routes each output gradient to that element alone, as PyTorch's
 * `max(dim)` does. Importing nn/index.ts registers the kernels and gradient.
 */
import { ShapeError } from '../errors.js';
import { runKernel } from '../kernels/registry.js';
import type { Tensor } from '../tensor.js';
import { registerGradient } from './autograd/registry.js';
import { registerCpuExtremumKernels } from './cpu/extremum.js';
import { extremumLayout, type ExtremumKind } from './extremum-reference.js';
import { finishRecord } from './record.js';
import { registerWebGpuExtremumKernels } from './webgpu/extremum.js';

function reduce(x: Tensor, axis: number, kind: ExtremumKind): Tensor {
  const op = kind === 'max' ? 'reduceMax' : 'reduceMin';
  const resolved = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(resolved) || resolved < 0 || resolved >= x.rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for ${x.describe()}; pass an axis in [-${x.rank}, ${x.rank - 1}]`);
  }
  if (x.shape[resolved] === 0) throw new ShapeError(`${op}: axis ${axis} of ${x.describe()} is empty, so it has no ${kind}`);

  const outputShape = x.shape.filter((_, index) => index !== resolved);
  const attrs = { kind, ...extremumLayout(x.shape, resolved), outputShape, inputShape: [...x.shape] };
  const [values, indices] = runKernel('nn.extremum', [x], attrs);
  // The indices are saved for the gradient; without a tape finishRecord disposes them.
  finishRecord('nn.extremum', [x], [values], [indices], attrs);
  return values;
}

/** Maximum of x over `axis` (negative counts from the end); the axis is removed from the shape. */
export function reduceMax(x: Tensor, axis: number): Tensor {
  return reduce(x, axis, 'max');
}

/** Minimum of x over `axis` (negative counts from the end); the axis is removed from the shape. */
export function reduceMin(x: Tensor, axis: number): Tensor {
  return reduce(x, axis, 'min');
}

let registered = false;

/** Registers the cpu and webgpu kernels and the gradient once. */
export function registerExtremum(): void {
  if (registered) return;
  registered = true;
  registerCpuExtremumKernels();
  registerWebGpuExtremumKernels();
  registerGradient('nn.extremum', (node, [dy]) => {
    const [indices] = node.saved;
    return [runKernel('nn.extremumBackward', [dy!, indices], node.attrs)[0]];
  });
}
