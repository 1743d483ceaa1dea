/** Registers the nn forward and backward kernels for the webgpu device. */
import { registerKernel, type KernelAttrs } from '../../kernels/registry.js';
import * as base from '../../ops.js';
import { shapesEqual } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { AttentionParams } from '../cpu/attention.js';
import type { ActivationName } from '../reference.js';
import { attentionBackward, attentionForward } from './attention.js';
import { requireF32 } from './launch.js';
import * as pointwise from './pointwise.js';
import * as rows from './rows.js';

/**
 * Registers a webgpu kernel. The WGSL computes in f32; f16 inputs (activations
 * stored in half precision) are widened first, and every output with the shape
 * of an f16 input is narrowed back to f16. Outputs of other shapes, such as
 * per-row statistics and the loss, stay f32.
 */
function gpuKernel(name: string, run: (inputs: readonly Tensor[], attrs: KernelAttrs) => Tensor[]): void {
  registerKernel({
    name,
    device: 'webgpu',
    run(inputs, attrs) {
      if (!inputs.some((input) => input.dtype === 'f16')) return run(inputs, attrs);
      // Widening would update a temporary copy instead of the tensor itself.
      if (name.endsWith('Inplace')) requireF32(name, inputs);

      const widened = inputs.map((input) => (input.dtype === 'f16' ? base.cast(input, 'f32') : input));
      requireF32(name, widened);
      const outputs = run(widened, attrs);
      for (let i = 0; i < inputs.length; i++) if (widened[i] !== inputs[i]) widened[i].dispose();

      const halfShapes = inputs.filter((input) => input.dtype === 'f16').map((input) => input.shape);
      return outputs.map((output) => {
        if (!halfShapes.some((shape) => shapesEqual(shape, output.shape))) return output;
        const narrowed = base.cast(output, 'f16');
        output.dispose();
        return narrowed;
      });
    },
  });
}

let registered = false;

export function registerWebGpuNnKernels(): void {
  if (registered) return;
  registered = true;

  gpuKernel('nn.embedding', ([table, ids]) => [pointwise.embeddingForward(table, ids)]);
  gpuKernel('nn.embeddingBackward', ([dy, ids], attrs) => [pointwise.embeddingBackward(dy, ids, attrs.vocab as number)]);
  gpuKernel('nn.rope', ([x, positions], attrs) => [pointwise.ropeApply(x, positions, attrs)]);

  gpuKernel('nn.rmsNorm', ([x, weight], attrs) => rows.rmsNormForward(x, weight, attrs.eps as number));
  gpuKernel('nn.addRmsNorm', ([x, residual, weight], attrs) => rows.rmsNormForward(x, weight, attrs.eps as number, residual));
  gpuKernel('nn.rmsNormBackward', ([dy, x, weight, invRms]) => rows.rmsNormBackward(dy, x, weight, invRms));
  gpuKernel('nn.layerNorm', ([x, weight, bias], attrs) => rows.layerNormForward(x, weight, bias, attrs.eps as number));
  gpuKernel('nn.addLayerNorm', ([x, residual, weight, bias], attrs) => rows.layerNormForward(x, weight, bias, attrs.eps as number, residual));
  gpuKernel('nn.layerNormBackward', ([dy, x, weight, mean, invStd]) => rows.layerNormBackward(dy, x, weight, mean, invStd));

  gpuKernel('nn.activation', ([x], attrs) => [pointwise.activationForward(x, attrs.name as ActivationName)]);
  gpuKernel('nn.activationBackward', ([dy, x], attrs) => [pointwise.activationBackward(dy, x, attrs.name as ActivationName)]);
  gpuKernel('nn.glu', ([gate, up], attrs) => [pointwise.gluForward(gate, up, attrs.name as ActivationName)]);
  gpuKernel('nn.gluBackward', ([dy, gate, up], attrs) => pointwise.gluBackward(dy, gate, up, attrs.name as ActivationName));

  gpuKernel('nn.softmax', ([x], attrs) => [rows.softmaxForward(x, attrs.log as boolean)]);
  gpuKernel('nn.softmaxBackward', ([dy, y], attrs) => [rows.softmaxBackward(dy, y, attrs.log as boolean)]);

  gpuKernel('nn.attention', ([q, k, v, mask], attrs) => attentionForward(q, k, v, mask, attrs as unknown as AttentionParams));
  gpuKernel('nn.attentionBackward', ([dOut, q, k, v, out, logSumExp, mask], attrs) =>
    attentionBackward(dOut, q, k, v, out, logSumExp, mask, attrs as unknown as AttentionParams),
  );

  gpuKernel('nn.crossEntropy', ([logits, targets], attrs) => rows.crossEntropyForward(logits, targets, attrs.ignoreIndex as number));
  gpuKernel('nn.crossEntropyBackward', ([dLoss, logits, targets, logSumExp, count], attrs) => [
    pointwise.crossEntropyBackward(dLoss, logits, targets, logSumExp, count, attrs.ignoreIndex as number),
  ]);

  gpuKernel('nn.columnSum', ([x]) => [pointwise.columnSum(x)]);
  gpuKernel('nn.sumSquares', ([x]) => [rows.sumSquares(x)]);
  gpuKernel('nn.adamwInplace', ([param, grad, m, v, normSquared], attrs) => {
    pointwise.adamwInplace(param, grad, m, v, normSquared, attrs);
    return [];
  });
  gpuKernel('nn.writeRowsInplace', ([cache, update], attrs) => {
    pointwise.writeRowsInplace(cache, update, attrs);
    return [];
  });
}
