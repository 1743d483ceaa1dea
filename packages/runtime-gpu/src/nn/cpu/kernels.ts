/**
 * Registers the nn forward and backward kernels for the cpu device. Each
 * kernel validates dtypes at call time and queues its TypeScript computation
 * behind the inputs' pending results through CpuDevice.enqueue.
 */
import { asCpuDevice, type CpuDevice, type CpuStorage } from '../../cpu/cpu-device.js';
import type { DType, StorageArray } from '../../dtype.js';
import { DTypeError } from '../../errors.js';
import { registerKernel, type KernelAttrs } from '../../kernels/registry.js';
import type { Shape } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { ActivationName, RopeLayout } from '../reference.js';
import { activationBackward, activationForward, gluBackward, gluForward } from './activation.js';
import { adamwStep } from './adamw.js';
import { attentionBackward, attentionForward, type AttentionParams } from './attention.js';
import { attentionBackwardUnfused, attentionForwardUnfused, unfusedFits } from './attention-unfused.js';
import { crossEntropyBackward, crossEntropyForward } from './cross-entropy.js';
import { embeddingBackward, embeddingForward } from './embedding.js';
import { layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from './norm.js';
import { ropeApply } from './rope.js';
import { softmaxBackward, softmaxForward } from './softmax.js';

type F32 = Float32Array;

/** Registers a cpu kernel whose float inputs must be f32 (ids are i32). */
function cpuKernel(
  name: string,
  outputs: (inputs: readonly Tensor[], attrs: KernelAttrs) => { shape: Shape; dtype: DType }[],
  compute: (arrays: StorageArray[], attrs: KernelAttrs, inputs: readonly Tensor[], device: CpuDevice) => StorageArray[] | Promise<StorageArray[]>,
): void {
  registerKernel({
    name,
    device: 'cpu',
    run(inputs, attrs, device) {
      for (const input of inputs) {
        if (input.dtype === 'f16') throw new DTypeError(`${name}: the cpu kernel takes f32 tensors, got ${input.describe()}; cast it first`);
      }
      const specs = outputs(inputs, attrs);
      const cpu = asCpuDevice(device);
      return cpu.enqueue(name, inputs, specs, (arrays) => compute(arrays, attrs, inputs, cpu));
    },
  });
}

/**
 * Registers a cpu kernel that modifies inputs `mutated` in place and returns
 * nothing. When an input is still pending, the update runs later, and the
 * mutated tensors are marked pending too, so kernels queued after this one read
 * the updated values. Readers queued before it are not waited for, so callers
 * that overwrite values still being read must sync first (AdamW.update does).
 */
function cpuInplaceKernel(name: string, mutated: number[], compute: (arrays: StorageArray[], attrs: KernelAttrs) => void): void {
  registerKernel({
    name,
    device: 'cpu',
    run(inputs, attrs) {
      const storages = inputs.map((tensor) => tensor.storage<CpuStorage>(name));
      if (storages.every((storage) => storage.data !== null)) {
        compute(
          storages.map((storage) => storage.data!),
          attrs,
        );
        return [];
      }
      const done = Promise.all(storages.map((storage) => storage.pending)).then((arrays) => {
        compute(arrays, attrs);
        return arrays;
      });
      for (const index of mutated) {
        const storage = storages[index];
        storage.data = null;
        storage.pending = done.then((arrays) => {
          storage.data = arrays[index];
          return arrays[index];
        });
        storage.pending.catch(() => undefined);
      }
      return [];
    },
  });
}

const f32 = (shape: Shape): { shape: Shape; dtype: DType } => ({ shape, dtype: 'f32' });
const rowsOf = (x: Tensor): number => x.size / x.shape[x.rank - 1];
const lastDim = (x: Tensor): number => x.shape[x.rank - 1];

/**
 * Attention strategy of the cpu device. `unfused` materializes the scores and
 * runs the products in onnxruntime (fast, O(seq²) memory). `fused` streams keys
 * in TypeScript (O(seq) memory). `auto` picks unfused while the scores fit UNFUSED_SCORE_LIMIT.
 */
export type CpuAttentionStrategy = 'auto' | 'fused' | 'unfused';

let attentionStrategy: CpuAttentionStrategy = 'auto';

export function setCpuAttentionStrategy(strategy: CpuAttentionStrategy): void {
  attentionStrategy = strategy;
}

function useUnfused(params: AttentionParams): boolean {
  if (attentionStrategy === 'auto') return unfusedFits(params);
  return attentionStrategy === 'unfused';
}

let registered = false;

export function registerCpuNnKernels(): void {
  if (registered) return;
  registered = true;

  cpuKernel(
    'nn.embedding',
    ([table, ids]) => [f32([ids.size, table.shape[1]])],
    ([table, ids], _attrs, [tensor]) => [embeddingForward(table as F32, tensor.shape[1], ids as Int32Array)],
  );
  cpuKernel(
    'nn.embeddingBackward',
    ([dy], attrs) => [f32([attrs.vocab as number, lastDim(dy)])],
    ([dy, ids], attrs, [dyTensor]) => [embeddingBackward(dy as F32, lastDim(dyTensor), ids as Int32Array, attrs.vocab as number)],
  );

  cpuKernel(
    'nn.rope',
    ([x]) => [f32(x.shape)],
    ([x, positions], attrs) => [
      ropeApply(
        x as F32,
        positions as Int32Array,
        {
          heads: attrs.heads as number,
          headDim: attrs.headDim as number,
          theta: attrs.theta as number,
          layout: attrs.layout as RopeLayout,
          scaling: attrs.scaling as number,
        },
        attrs.direction as 1 | -1,
      ),
    ],
  );

  cpuKernel(
    'nn.rmsNorm',
    ([x]) => [f32(x.shape), f32([rowsOf(x)])],
    ([x, weight], attrs, [xt]) => {
      const { y, invRms } = rmsNormForward(x as F32, weight as F32, lastDim(xt), attrs.eps as number);
      return [y, invRms];
    },
  );
  cpuKernel(
    'nn.addRmsNorm',
    ([x]) => [f32(x.shape), f32(x.shape), f32([rowsOf(x)])],
    ([x, residual, weight], attrs, [xt]) => {
      const sum = new Float32Array(x.length);
      for (let i = 0; i < sum.length; i++) sum[i] = x[i] + residual[i];
      const { y, invRms } = rmsNormForward(sum, weight as F32, lastDim(xt), attrs.eps as number);
      return [sum, y, invRms];
    },
  );
  cpuKernel(
    'nn.rmsNormBackward',
    ([, x, weight]) => [f32(x.shape), f32(weight.shape)],
    ([dy, x, weight, invRms], _attrs, [, xt]) => {
      const { dx, dWeight } = rmsNormBackward(dy as F32, x as F32, weight as F32, invRms as F32, lastDim(xt));
      return [dx, dWeight];
    },
  );

  cpuKernel(
    'nn.layerNorm',
    ([x]) => [f32(x.shape), f32([rowsOf(x)]), f32([rowsOf(x)])],
    ([x, weight, bias], attrs, [xt]) => {
      const { y, mean, invStd } = layerNormForward(x as F32, weight as F32, bias as F32 | undefined, lastDim(xt), attrs.eps as number);
      return [y, mean, invStd];
    },
  );
  cpuKernel(
    'nn.addLayerNorm',
    ([x]) => [f32(x.shape), f32(x.shape), f32([rowsOf(x)]), f32([rowsOf(x)])],
    ([x, residual, weight, bias], attrs, [xt]) => {
      const sum = new Float32Array(x.length);
      for (let i = 0; i < sum.length; i++) sum[i] = x[i] + residual[i];
      const { y, mean, invStd } = layerNormForward(sum, weight as F32, bias as F32 | undefined, lastDim(xt), attrs.eps as number);
      return [sum, y, mean, invStd];
    },
  );
  cpuKernel(
    'nn.layerNormBackward',
    ([, x, weight]) => [f32(x.shape), f32(weight.shape), f32(weight.shape)],
    ([dy, x, weight, mean, invStd], _attrs, [, xt]) => {
      const { dx, dWeight, dBias } = layerNormBackward(dy as F32, x as F32, weight as F32, mean as F32, invStd as F32, lastDim(xt));
      return [dx, dWeight, dBias];
    },
  );

  cpuKernel(
    'nn.activation',
    ([x]) => [f32(x.shape)],
    ([x], attrs) => [activationForward(attrs.name as ActivationName, x as F32)],
  );
  cpuKernel(
    'nn.activationBackward',
    ([, x]) => [f32(x.shape)],
    ([dy, x], attrs) => [activationBackward(attrs.name as ActivationName, dy as F32, x as F32)],
  );
  cpuKernel(
    'nn.glu',
    ([gate]) => [f32(gate.shape)],
    ([gate, up], attrs) => [gluForward(attrs.name as ActivationName, gate as F32, up as F32)],
  );
  cpuKernel(
    'nn.gluBackward',
    ([, gate, up]) => [f32(gate.shape), f32(up.shape)],
    ([dy, gate, up], attrs) => {
      const { dGate, dUp } = gluBackward(attrs.name as ActivationName, dy as F32, gate as F32, up as F32);
      return [dGate, dUp];
    },
  );

  cpuKernel(
    'nn.softmax',
    ([x]) => [f32(x.shape)],
    ([x], attrs, [xt]) => [softmaxForward(x as F32, lastDim(xt), attrs.log as boolean)],
  );
  cpuKernel(
    'nn.softmaxBackward',
    ([, y]) => [f32(y.shape)],
    ([dy, y], attrs, [, yt]) => [softmaxBackward(dy as F32, y as F32, lastDim(yt), attrs.log as boolean)],
  );

  cpuKernel(
    'nn.attention',
    ([q], attrs) => [f32(q.shape), f32([(attrs.batch as number) * (attrs.heads as number) * (attrs.queryLength as number)])],
    ([q, k, v, mask], attrs, _inputs, device) => {
      const params = attrs as unknown as AttentionParams;
      if (useUnfused(params)) {
        return attentionForwardUnfused(device.sessions, q as F32, k as F32, v as F32, params, mask as F32 | undefined).then(({ out, logSumExp }) => [out, logSumExp]);
      }
      const { out, logSumExp } = attentionForward(q as F32, k as F32, v as F32, params, mask as F32 | undefined);
      return [out, logSumExp];
    },
  );
  cpuKernel(
    'nn.attentionBackward',
    ([, q, k, v]) => [f32(q.shape), f32(k.shape), f32(v.shape)],
    ([dOut, q, k, v, out, logSumExp, mask], attrs, _inputs, device) => {
      const params = attrs as unknown as AttentionParams;
      if (useUnfused(params)) {
        const arrays = [dOut, q, k, v, out, logSumExp] as F32[];
        return attentionBackwardUnfused(device.sessions, ...(arrays as [F32, F32, F32, F32, F32, F32]), params, mask as F32 | undefined).then((grads) => [
          grads.dq,
          grads.dk,
          grads.dv,
        ]);
      }
      const grads = attentionBackward(
        dOut as F32,
        q as F32,
        k as F32,
        v as F32,
        out as F32,
        logSumExp as F32,
        attrs as unknown as AttentionParams,
        mask as F32 | undefined,
      );
      return [grads.dq, grads.dk, grads.dv];
    },
  );

  cpuKernel(
    'nn.crossEntropy',
    ([logits]) => [f32([1]), f32([logits.shape[0]]), f32([1])],
    ([logits, targets], attrs, [lt]) => {
      const result = crossEntropyForward(logits as F32, lastDim(lt), targets as Int32Array, attrs.ignoreIndex as number);
      return [Float32Array.of(result.loss), result.logSumExp, Float32Array.of(result.count)];
    },
  );
  cpuKernel(
    'nn.crossEntropyBackward',
    ([, logits]) => [f32(logits.shape)],
    ([dLoss, logits, targets, logSumExp, count], attrs, [, lt]) => [
      crossEntropyBackward(dLoss[0], logits as F32, lastDim(lt), targets as Int32Array, attrs.ignoreIndex as number, logSumExp as F32, count[0]),
    ],
  );

  cpuKernel(
    'nn.columnSum',
    ([x]) => [f32([lastDim(x)])],
    ([x], _attrs, [xt]) => {
      const columns = lastDim(xt);
      const sums = new Float64Array(columns);
      for (let i = 0; i < x.length; i++) sums[i % columns] += x[i];
      return [Float32Array.from(sums)];
    },
  );
  cpuKernel(
    'nn.sumSquares',
    () => [f32([1])],
    ([x]) => {
      let sum = 0;
      for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
      return [Float32Array.of(sum)];
    },
  );

  // Updates param, m and v in place; input 4 is the global gradient norm squared (for clipping).
  cpuInplaceKernel(
    'nn.adamwInplace',
    [0, 2, 3],
    ([param, grad, m, v, normSquared], attrs) => {
      const gradScale = gradientScale(normSquared[0], attrs);
      // An overflowed (non-finite) gradient under loss scaling skips the step instead of corrupting the weights.
      if (!Number.isFinite(gradScale)) return;
      adamwStep(param as F32, grad as F32, m as F32, v as F32, {
        lr: attrs.lr as number,
        beta1: attrs.beta1 as number,
        beta2: attrs.beta2 as number,
        eps: attrs.eps as number,
        weightDecay: attrs.weightDecay as number,
        step: attrs.step as number,
        gradScale,
      });
    },
  );

  // Writes `update` into rows [offset, offset + rows) of each batch entry of `cache`, in place (KV cache append).
  cpuInplaceKernel(
    'nn.writeRowsInplace',
    [0],
    ([cache, update], attrs) => {
      const { batch, capacity, offset } = attrs as { batch: number; capacity: number; offset: number };
      const width = cache.length / (batch * capacity);
      const rows = update.length / (batch * width);
      for (let b = 0; b < batch; b++) {
        cache.set(update.subarray(b * rows * width, (b + 1) * rows * width), (b * capacity + offset) * width);
      }
    },
  );
}

/**
 * Gradient multiplier of an AdamW step: 1/lossScale, times the global-norm clip
 * factor min(1, maxNorm / norm) when clipping is on. The norm is of the unscaled gradient.
 */
export function gradientScale(normSquared: number, attrs: KernelAttrs): number {
  if (!Number.isFinite(normSquared)) return Number.NaN;
  const inverseLossScale = 1 / (attrs.lossScale as number);
  const maxNorm = attrs.maxGradNorm as number;
  const norm = Math.sqrt(normSquared) * inverseLossScale;
  const clip = maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return inverseLossScale * clip;
}
