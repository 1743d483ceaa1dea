/**
 * Webgpu kernels of the max/min reduction over one axis. The forward pass runs
 * one invocation per output element and scans the reduced axis. The backward
 * pass runs one invocation per input element, so it needs no atomics. f16
 * inputs are widened to f32 first and the values narrowed back.
 */
import { DTypeError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import * as base from '../../ops.js';
import type { Tensor } from '../../tensor.js';
import { asWebGpuDevice } from '../../webgpu/webgpu-device.js';
import type { ExtremumKind } from '../extremum-reference.js';
import { declarations, groupsFor, launch, linearEntry, type UniformField } from './launch.js';

function layoutFields(attrs: Record<string, unknown>, count: number): UniformField[] {
  return [
    ['u32', 'count', count],
    ['u32', 'length', attrs.length as number],
    ['u32', 'inner', attrs.inner as number],
  ];
}

function forward(x: Tensor, attrs: Record<string, unknown>): Tensor[] {
  const device = asWebGpuDevice(x.device);
  const shape = attrs.outputShape as number[];
  const kind = attrs.kind as ExtremumKind;
  const count = (attrs.outer as number) * (attrs.inner as number);
  const values = device.createTensor(shape, 'f32');
  const indices = device.createTensor(shape, 'i32');
  const fields = layoutFields(attrs, count);
  // Strict comparison keeps the first index on ties, as in the float64 reference.
  const better = kind === 'max' ? 'value > best' : 'value < best';
  launch(device, {
    key: `nn.extremum.${kind}`,
    buffers: [x, values, indices],
    fields,
    workgroups: groupsFor(count),
    code: () => `${declarations([{ name: 'x', type: 'f32' }], [{ name: 'values', type: 'f32' }, { name: 'indices', type: 'i32' }], fields)}
${linearEntry('params.count')}
  let o = index / params.inner;
  let i = index % params.inner;
  let start = o * params.length * params.inner + i;
  var best = x[start];
  var bestIndex = 0u;
  for (var j = 1u; j < params.length; j++) {
    let value = x[start + j * params.inner];
    if (${better}) {
      best = value;
      bestIndex = j;
    }
  }
  values[index] = best;
  indices[index] = i32(bestIndex);
}`,
  });
  return [values, indices];
}

function backward(dy: Tensor, indices: Tensor, attrs: Record<string, unknown>): Tensor {
  const device = asWebGpuDevice(dy.device);
  const shape = attrs.inputShape as number[];
  const count = (attrs.outer as number) * (attrs.length as number) * (attrs.inner as number);
  const dx = device.createTensor(shape, 'f32');
  const fields = layoutFields(attrs, count);
  launch(device, {
    key: 'nn.extremumBackward',
    buffers: [dy, indices, dx],
    fields,
    workgroups: groupsFor(count),
    code: () => `${declarations([{ name: 'dy', type: 'f32' }, { name: 'indices', type: 'i32' }], [{ name: 'dx', type: 'f32' }], fields)}
${linearEntry('params.count')}
  let i = index % params.inner;
  let j = (index / params.inner) % params.length;
  let o = index / (params.inner * params.length);
  let out = o * params.inner + i;
  dx[index] = select(0.0, dy[out], u32(indices[out]) == j);
}`,
  });
  return dx;
}

export function registerWebGpuExtremumKernels(): void {
  registerKernel({
    name: 'nn.extremum',
    device: 'webgpu',
    run([x], attrs) {
      if (x.dtype === 'i32') throw new DTypeError(`nn.extremum: expected f32 or f16 values, got ${x.describe()}`);
      if (x.dtype === 'f32') return forward(x, attrs);
      const widened = base.cast(x, 'f32');
      const [values, indices] = forward(widened, attrs);
      widened.dispose();
      const narrowed = base.cast(values, 'f16');
      values.dispose();
      return [narrowed, indices];
    },
  });
  registerKernel({
    name: 'nn.extremumBackward',
    device: 'webgpu',
    run([dy, indices], attrs) {
      if (dy.dtype === 'i32') throw new DTypeError(`nn.extremumBackward: expected f32 or f16 gradients, got ${dy.describe()}`);
      if (dy.dtype === 'f32') return [backward(dy, indices, attrs)];
      const widened = base.cast(dy, 'f32');
      const dx = backward(widened, indices, attrs);
      widened.dispose();
      const narrowed = base.cast(dx, 'f16');
      dx.dispose();
      return [narrowed];
    },
  });
}
