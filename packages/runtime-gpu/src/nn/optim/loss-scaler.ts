/**
 * Dynamic loss scaling for f16 activations. After each AdamW update, `adjust`
 * reads the step's gradient norm (one float). A non-finite norm means the
 * scaled gradients overflowed and the kernel skipped the step, so the scale is
 * halved. After `growthInterval` finite steps in a row it is doubled again.
 */
import type { AdamW } from './adamw.js';

export interface LossScalerOptions {
  initialScale?: number;
  growthInterval?: number;
  minScale?: number;
  maxScale?: number;
}

export class DynamicLossScaler {
  scale: number;
  readonly growthInterval: number;
  readonly minScale: number;
  readonly maxScale: number;
  /** Steps skipped because of overflow so far. */
  skippedSteps = 0;
  #goodSteps = 0;

  constructor(options: LossScalerOptions = {}) {
    this.scale = options.initialScale ?? 2 ** 15;
    this.growthInterval = options.growthInterval ?? 2000;
    this.minScale = options.minScale ?? 1;
    this.maxScale = options.maxScale ?? 2 ** 24;
  }

  /**
   * Updates the scale from the optimizer's last step and hands it to the
   * optimizer for the next one. Returns false when the last step was skipped.
   */
  async adjust(optimizer: AdamW): Promise<boolean> {
    const norm = optimizer.lastGradNormSquared;
    if (norm === null) throw new Error('DynamicLossScaler.adjust: call optimizer.update() first');
    const squared = (await norm.read())[0];
    const finite = Number.isFinite(squared);

    if (finite) {
      this.#goodSteps++;
      if (this.#goodSteps >= this.growthInterval) {
        this.scale = Math.min(this.maxScale, this.scale * 2);
        this.#goodSteps = 0;
      }
    } else {
      this.skippedSteps++;
      this.#goodSteps = 0;
      this.scale = Math.max(this.minScale, this.scale / 2);
    }
    optimizer.options.lossScale = this.scale;
    return finite;
  }
}
