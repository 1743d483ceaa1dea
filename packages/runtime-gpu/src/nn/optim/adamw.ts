/**
 * AdamW over a list of parameter tensors. Each step runs one fused kernel per
 * parameter (`nn.adamwInplace`) that updates the parameter and both moment
 * buffers in place. Global-norm clipping and loss scaling happen inside that
 * kernel. The squared global norm is summed on the device and passed as a
 * one-element tensor, so a webgpu step never waits for a readback.
 */
import { runKernel } from '../../kernels/registry.js';
import * as base from '../../ops.js';
import type { Tensor } from '../../tensor.js';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay, applied as lr·weightDecay·param. */
  weightDecay?: number;
  /** Clip the global gradient norm to this value; 0 turns clipping off. */
  maxGradNorm?: number;
  /** The loss was multiplied by this before backward; gradients are divided by it. */
  lossScale?: number;
}

export interface ParameterGroup {
  params: Tensor[];
  /** Overrides the optimizer's weight decay (0 is usual for norms and biases). */
  weightDecay?: number;
}

interface Slot {
  param: Tensor;
  m: Tensor;
  v: Tensor;
  weightDecay: number;
}

// NOTE: parameters are separate tensors, so a step launches one fused kernel per parameter
// rather than one kernel over a single flat buffer of all parameters.
export class AdamW {
  readonly options: Required<AdamWOptions>;
  step = 0;
  /** Squared global gradient norm of the last update (loss-scaled), kept for DynamicLossScaler. */
  lastGradNormSquared: Tensor | null = null;
  readonly #slots: Slot[] = [];

  constructor(groups: Tensor[] | ParameterGroup[], options: AdamWOptions) {
    this.options = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 0, lossScale: 1, ...options };
    const normalized: ParameterGroup[] = groups.length > 0 && 'params' in groups[0] ? (groups as ParameterGroup[]) : [{ params: groups as Tensor[] }];
    for (const group of normalized) {
      for (const param of group.params) {
        if (param.dtype !== 'f32') throw new Error(`AdamW: parameters are f32 master weights, got ${param.describe()}`);
        param.requiresGrad = true;
        this.#slots.push({
          param,
          m: param.device.zeros(param.shape, 'f32'),
          v: param.device.zeros(param.shape, 'f32'),
          weightDecay: group.weightDecay ?? this.options.weightDecay,
        });
      }
    }
  }

  get params(): Tensor[] {
    return this.#slots.map((slot) => slot.param);
  }

  /** Squared global L2 norm of the current gradients (still multiplied by the loss scale), as a [1] tensor. */
  gradNormSquared(): Tensor {
    let total: Tensor | null = null;
    for (const { param } of this.#slots) {
      if (param.grad === null) continue;
      const part = runKernel('nn.sumSquares', [param.grad])[0];
      if (total === null) {
        total = part;
        continue;
      }
      const sum: Tensor = base.add(total, part);
      total.dispose();
      part.dispose();
      total = sum;
    }
    return total ?? this.#slots[0].param.device.zeros([1], 'f32');
  }

  /**
   * Applies one update to every parameter that has a gradient, with learning
   * rate `lr` (defaults to the constructor's, for schedules). A non-finite
   * gradient norm (overflow under loss scaling) makes the kernel skip the update.
   * On the cpu device it first waits for queued work, because the update
   * overwrites parameters that queued backward kernels may still read. The
   * webgpu queue runs commands in order, so there it does not wait.
   */
  async update(lr = this.options.lr): Promise<void> {
    if (this.#slots.length === 0) return;
    const device = this.#slots[0].param.device;
    if (device.kind === 'cpu') await device.sync();
    this.step++;
    const normSquared = this.gradNormSquared();
    for (const slot of this.#slots) {
      if (slot.param.grad === null) continue;
      runKernel('nn.adamwInplace', [slot.param, slot.param.grad, slot.m, slot.v, normSquared], {
        lr,
        beta1: this.options.beta1,
        beta2: this.options.beta2,
        eps: this.options.eps,
        weightDecay: slot.weightDecay,
        step: this.step,
        maxGradNorm: this.options.maxGradNorm,
        lossScale: this.options.lossScale,
      });
    }
    this.lastGradNormSquared?.dispose();
    this.lastGradNormSquared = normSquared;
  }

  /** Disposes and clears every gradient. */
  zeroGrad(): void {
    for (const { param } of this.#slots) {
      param.grad?.dispose();
      param.grad = null;
    }
  }

  /** Moment buffers in parameter order, for checkpoints. */
  moments(): { m: Tensor; v: Tensor }[] {
    return this.#slots.map(({ m, v }) => ({ m, v }));
  }

  dispose(): void {
    this.lastGradNormSquared?.dispose();
    this.lastGradNormSquared = null;
    for (const slot of this.#slots) {
      slot.m.dispose();
      slot.v.dispose();
    }
  }
}
