/** Registers the cpu kernels of the max/min reduction over one axis. */
import { asCpuDevice } from '../../cpu/cpu-device.js';
import { DTypeError } from '../../errors.js';
import { registerKernel } from '../../kernels/registry.js';
import type { Tensor } from '../../tensor.js';
import { extremumBackward, extremumForward, type ExtremumKind, type ExtremumLayout } from '../extremum-reference.js';

function requireF32(op: string, tensor: Tensor): void {
  if (tensor.dtype !== 'f32') throw new DTypeError(`${op}: the cpu kernel takes f32 values, got ${tensor.describe()}; cast it first`);
}

export function registerCpuExtremumKernels(): void {
  // Inputs: x. Attrs: kind, outer, length, inner, outputShape. Outputs: values (f32) and the picked indices (i32).
  registerKernel({
    name: 'nn.extremum',
    device: 'cpu',
    run([x], attrs, device) {
      requireF32('nn.extremum', x);
      const layout = attrs as unknown as ExtremumLayout;
      const shape = attrs.outputShape as number[];
      return asCpuDevice(device).enqueue('nn.extremum', [x], [{ shape, dtype: 'f32' }, { shape, dtype: 'i32' }], ([data]) => {
        const { values, indices } = extremumForward(data, layout, attrs.kind as ExtremumKind);
        return [Float32Array.from(values), indices];
      });
    },
  });

  // Inputs: dy, indices. Attrs: outer, length, inner, inputShape. Output: dx of the input's shape.
  registerKernel({
    name: 'nn.extremumBackward',
    device: 'cpu',
    run([dy, indices], attrs, device) {
      requireF32('nn.extremumBackward', dy);
      const layout = attrs as unknown as ExtremumLayout;
      const shape = attrs.inputShape as number[];
      return asCpuDevice(device).enqueue('nn.extremumBackward', [dy, indices], [{ shape, dtype: 'f32' }], ([gradient, picked]) => [
        Float32Array.from(extremumBackward(gradient, picked, layout)),
      ]);
    },
  });
}
