/**
 * Streaming activation statistics for pruning, accumulated in f32 over
 * chunks of calibration inputs X ([rows, d], one row per token):
 *
 * - SparseGPT Hessian: H ← H·n/(n+m) + (2/(n+m))·XᵀX, so after all chunks
 *   H = (2/N)·Σ XᵀX, whatever the chunking.
 * - Wanda scaler: s ← s·n/(n+m) + colΣ(X²)/(n+m), so s_j = Σ x_j² / N.
 *
 * n counts the samples seen so far and m the samples in the new chunk. What a
 * "sample" is belongs to the caller: the reference implementations count one
 * per calibration sequence (m = 1 per call), not one per token.
 */
import type { Device } from './device.js';
import { ShapeError } from './errors.js';
import { runKernel } from './kernels/registry.js';
import { keep } from './scope.js';
import { formatShape } from './shape.js';
import type { Tensor } from './tensor.js';

/** One Hessian update step; returns the new H and leaves `h` intact. */
export function hessianUpdate(h: Tensor, x: Tensor, previousSamples: number, addedSamples: number): Tensor {
  return runKernel('hessianUpdate', [h, x], { previousSamples, addedSamples })[0];
}

/** One Wanda scaler update step; returns the new s and leaves `s` intact. */
export function wandaScalerUpdate(s: Tensor, x: Tensor, previousSamples: number, addedSamples: number): Tensor {
  return runKernel('wandaScalerUpdate', [s, x], { previousSamples, addedSamples })[0];
}

abstract class RunningStatistic {
  protected current: Tensor;
  #samples = 0;

  constructor(
    protected readonly device: Device,
    readonly dim: number,
    shape: number[],
  ) {
    this.current = keep(device.zeros(shape, 'f32'));
  }

  /** Number of samples accumulated so far. */
  get samples(): number {
    return this.#samples;
  }

  /**
   * Adds a chunk X of shape [rows, dim] (or [batch, rows, dim], flattened)
   * that counts as `samples` samples (default: its number of rows).
   */
  add(x: Tensor, samples = rowCount(x)): void {
    if (x.shape[x.shape.length - 1] !== this.dim) {
      throw new ShapeError(`${this.constructor.name}.add: input ${formatShape(x.shape)} must have last dimension ${this.dim}`);
    }
    if (!(samples > 0)) {
      throw new ShapeError(`${this.constructor.name}.add: samples must be positive, got ${samples}`);
    }
    const next = keep(this.update(this.current, x, this.#samples, samples));
    this.current.dispose();
    this.current = next;
    this.#samples += samples;
  }

  protected abstract update(current: Tensor, x: Tensor, previous: number, added: number): Tensor;

  dispose(): void {
    this.current.dispose();
  }
}

function rowCount(x: Tensor): number {
  return x.size / x.shape[x.shape.length - 1];
}

/** Streams the SparseGPT Hessian (2/N)·XᵀX of a layer input with `dim` features. */
export class HessianAccumulator extends RunningStatistic {
  constructor(device: Device, dim: number) {
    super(device, dim, [dim, dim]);
  }

  /** The current [dim, dim] f32 Hessian, owned by the accumulator (do not dispose). */
  get hessian(): Tensor {
    return this.current;
  }

  protected update(current: Tensor, x: Tensor, previous: number, added: number): Tensor {
    return hessianUpdate(current, x, previous, added);
  }
}

/** Streams Wanda's per-input-feature statistic ‖X_j‖²/N (`scaler_row`). */
export class WandaScalerAccumulator extends RunningStatistic {
  constructor(device: Device, dim: number) {
    super(device, dim, [dim]);
  }

  /** The current [dim] f32 scaler, owned by the accumulator (do not dispose). */
  get scaler(): Tensor {
    return this.current;
  }

  protected update(current: Tensor, x: Tensor, previous: number, added: number): Tensor {
    return wandaScalerUpdate(current, x, previous, added);
  }
}
