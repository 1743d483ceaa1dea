/**
 * Gradient functions of every differentiable op, registered by op name. Each
 * is composed from backward kernels (names ending in `Backward`) and foundation
 * ops, so it runs on whichever device the tensors live on.
 */
import type { DType } from '../../dtype.js';
import * as base from '../../ops.js';
import { runKernel } from '../../kernels/registry.js';
import { ShapeError } from '../../errors.js';
import { shapesEqual } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { registerGradient, type TapeNode } from './registry.js';

/** Sums a gradient down to `shape`: equal shapes pass through, a row vector sums over rows. */
function reduceTo(grad: Tensor, shape: readonly number[], op: string): Tensor {
  if (shapesEqual(grad.shape, shape)) return base.copy(grad);
  const features = grad.shape[grad.rank - 1];
  const isRowVector = (shape.length === 1 || (shape.length === 2 && shape[0] === 1)) && shape[shape.length - 1] === features;
  if (isRowVector) {
    const flat = grad.rank === 2 ? grad : base.reshape(grad, [grad.size / features, features]);
    const summed = runKernel('nn.columnSum', [flat])[0];
    if (flat !== grad) flat.dispose();
    if (shape.length === 1) return summed;
    const reshaped = base.reshape(summed, shape);
    summed.dispose();
    return reshaped;
  }
  throw new ShapeError(`${op} backward: broadcasting ${grad.describe()} down to [${shape.join(', ')}] is not supported; only equal shapes and row vectors are`);
}


let registered = false;

/** Registers every gradient once; called by the package entry point. */
export function registerNnGradients(): void {
  if (registered) return;
  registered = true;

  registerGradient('nn.embedding', (node, [dy]) => {
    const [table, ids] = node.inputs;
    return [runKernel('nn.embeddingBackward', [dy!, ids], { vocab: table.shape[0] })[0], null];
  });

  registerGradient('nn.rope', (node, [dy]) => {
    const [, positions] = node.inputs;
    return [runKernel('nn.rope', [dy!, positions], { ...node.attrs, direction: -1 })[0], null];
  });

  registerGradient('nn.rmsNorm', (node, [dy]) => {
    const [x, weight] = node.inputs;
    const [invRms] = node.saved;
    const [dx, dWeight] = runKernel('nn.rmsNormBackward', [dy!, x, weight, invRms]);
    return [dx, dWeight];
  });

  registerGradient('nn.addRmsNorm', (node, [dSum, dy]) => {
    const [, , weight] = node.inputs;
    const [sum] = node.outputs;
    const [invRms] = node.saved;
    let dWeight: Tensor | null = null;
    let total: Tensor;
    if (dy) {
      const [dNormInput, dW] = runKernel('nn.rmsNormBackward', [dy, sum, weight, invRms]);
      dWeight = dW;
      total = dSum ? base.add(dSum, dNormInput) : dNormInput;
      if (dSum) dNormInput.dispose();
    } else {
      total = base.copy(dSum!);
    }
    // x and residual receive the same gradient; each gets its own tensor because the tape consumes them separately.
    return [total, base.copy(total), dWeight];
  });

  registerGradient('nn.addLayerNorm', (node, [dSum, dy]) => {
    const [, , weight, bias] = node.inputs;
    const [sum] = node.outputs;
    const [mean, invStd] = node.saved;
    let dWeight: Tensor | null = null;
    let dBias: Tensor | null = null;
    let total: Tensor;
    if (dy) {
      const [dNormInput, dW, dB] = runKernel('nn.layerNormBackward', [dy, sum, weight, mean, invStd]);
      dWeight = dW;
      dBias = dB;
      total = dSum ? base.add(dSum, dNormInput) : dNormInput;
      if (dSum) dNormInput.dispose();
    } else {
      total = base.copy(dSum!);
    }
    if (bias === undefined) {
      dBias?.dispose();
      return [total, base.copy(total), dWeight];
    }
    return [total, base.copy(total), dWeight, dBias];
  });

  registerGradient('nn.layerNorm', (node, [dy]) => {
    const [x, weight, bias] = node.inputs;
    const [mean, invStd] = node.saved;
    const [dx, dWeight, dBias] = runKernel('nn.layerNormBackward', [dy!, x, weight, mean, invStd]);
    if (bias === undefined) {
      dBias.dispose();
      return [dx, dWeight];
    }
    return [dx, dWeight, dBias];
  });

  registerGradient('nn.activation', (node, [dy]) => [runKernel('nn.activationBackward', [dy!, node.inputs[0]], node.attrs)[0]]);

  registerGradient('nn.glu', (node, [dy]) => {
    const [gate, up] = node.inputs;
    return runKernel('nn.gluBackward', [dy!, gate, up], node.attrs);
  });

  registerGradient('nn.softmax', (node, [dy]) => [runKernel('nn.softmaxBackward', [dy!, node.outputs[0]], node.attrs)[0]]);

  registerGradient('nn.attention', (node, [dOut]) => {
    const [q, k, v, keyMask] = node.inputs;
    const [logSumExp] = node.saved;
    const inputs = [dOut!, q, k, v, node.outputs[0], logSumExp];
    if (keyMask) inputs.push(keyMask);
    const [dq, dk, dv] = runKernel('nn.attentionBackward', inputs, node.attrs);
    return keyMask ? [dq, dk, dv, null] : [dq, dk, dv];
  });

  registerGradient('nn.crossEntropy', (node, [dLoss]) => {
    const [logits, targets] = node.inputs;
    const [logSumExp, count] = node.saved;
    return [runKernel('nn.crossEntropyBackward', [dLoss!, logits, targets, logSumExp, count], node.attrs)[0], null];
  });

  registerGradient('linear', (node, [dy]) => {
    const [x, weight, bias] = node.inputs;
    const dx = base.matmul(dy!, weight);
    const dWeight = base.matmul(dy!, x, { transA: true });
    if (bias === undefined) return [dx, dWeight];
    return [dx, dWeight, runKernel('nn.columnSum', [dy!])[0]];
  });

  registerGradient('matmul', (node, [dy]) => {
    const [a, b] = node.inputs;
    const transA = node.attrs.transA === true;
    const transB = node.attrs.transB === true;
    if (a.rank !== b.rank) {
      throw new ShapeError(`matmul backward: ${a.describe()} and ${b.describe()} differ in rank; reshape the batched operand to 2-D first`);
    }
    // dop(A) = dC·op(B)ᵀ and dop(B) = op(A)ᵀ·dC, transposed back when the operand was stored transposed.
    const dA = transA ? base.matmul(b, dy!, { transA: transB, transB: true }) : base.matmul(dy!, b, { transB: !transB });
    const dB = transB ? base.matmul(dy!, a, { transA: true, transB: transA }) : base.matmul(a, dy!, { transA: !transA });
    return [dA, dB];
  });

  registerGradient('add', (node, [dy]) => [reduceTo(dy!, node.inputs[0].shape, 'add'), reduceTo(dy!, node.inputs[1].shape, 'add')]);

  registerGradient('sub', (node, [dy]) => {
    const negated = base.affine(dy!, -1);
    const db = reduceTo(negated, node.inputs[1].shape, 'sub');
    negated.dispose();
    return [reduceTo(dy!, node.inputs[0].shape, 'sub'), db];
  });

  registerGradient('mul', (node, [dy]) => {
    const [a, b] = node.inputs;
    const products = [base.mul(dy!, b), base.mul(dy!, a)];
    const grads = [reduceTo(products[0], a.shape, 'mul'), reduceTo(products[1], b.shape, 'mul')];
    for (const product of products) product.dispose();
    return grads;
  });

  registerGradient('affine', (node, [dy]) => [base.affine(dy!, node.attrs.scale as number)]);

  registerGradient('cast', (node, [dy]) => [base.cast(dy!, node.attrs.dtype as DType)]);

  registerGradient('reshape', (node, [dy]) => [base.reshape(dy!, node.attrs.shape as number[])]);
}
