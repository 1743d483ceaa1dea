/**
 * Activation statistics gathered from a linear layer's inputs, one call per
 * calibration sequence (batch size 1), as running means over sequences:
 *
 * - Wanda's row scaler s: s ← s·n/(n+1); n ← n+1; s ← s + ‖X_b[:, j]‖² / n,
 *   so after N sequences s_j = Σ_b Σ_t x²_{b,t,j} / N.
 * - SparseGPT's Hessian: H ← H·n/(n+1); n ← n+1; H ← H + (2/n)·X_bᵀX_b,
 *   so after N sequences H = (2/N)·XᵀX.
 *
 * The counter counts sequences, not tokens: that only rescales every column
 * by one constant (masks do not change), and it is what the reference does.
 *
 * A per-token weight (1 = counted, 0 = skipped) lets clean mode leave padding
 * out; faithful mode passes none and counts every position.
 */
import { InputError } from '@sculpt/core';
import type { FloatArray } from './matrix.js';
import { referenceGemm, type GemmBackend } from './linalg.js';

/** One calibration sequence's input to a linear layer: `tokens × features`, row-major. */
export interface LayerInput {
  tokens: number;
  features: number;
  data: FloatArray;
  /** Optional per-token weight; 0 drops a position from the statistics (clean mode's padding). */
  tokenMask?: Uint8Array;
}

function checkInput(input: LayerInput, features: number, statistic: string): void {
  if (input.features !== features) {
    throw new InputError(`${statistic}: input has ${input.features} features but the layer has ${features}`);
  }
  if (input.data.length !== input.tokens * input.features) {
    throw new InputError(`${statistic}: input data has ${input.data.length} values, expected ${input.tokens}×${input.features}`);
  }
}

/** Wanda's per-column running mean of squared activations (`scaler_row`). */
export class RowScaler {
  readonly values: Float64Array;
  sequences = 0;
  /** Tokens that were counted, for the run manifest (clean mode differs from faithful here). */
  tokensCounted = 0;

  constructor(readonly features: number) {
    this.values = new Float64Array(features);
  }

  addBatch(input: LayerInput): void {
    checkInput(input, this.features, 'row scaler');
    const { tokens, features, data, tokenMask } = input;

    const decay = this.sequences / (this.sequences + 1);
    for (let j = 0; j < features; j++) this.values[j] *= decay;
    this.sequences += 1;

    const inverseCount = 1 / this.sequences;
    const sums = new Float64Array(features);
    for (let t = 0; t < tokens; t++) {
      if (tokenMask !== undefined && tokenMask[t] === 0) continue;
      this.tokensCounted += 1;
      const row = t * features;
      for (let j = 0; j < features; j++) {
        const x = data[row + j];
        sums[j] += x * x;
      }
    }
    for (let j = 0; j < features; j++) this.values[j] += sums[j] * inverseCount;
  }
}

/**
 * Storage precision of a Hessian. The reference accumulates in float32, which
 * also halves the largest allocation of a SparseGPT run; float64 serves the
 * exact reference tests.
 */
export type HessianPrecision = 'float32' | 'float64';

/** SparseGPT's running Hessian H = (2/N)·XᵀX, stored dense `features × features`. */
export class HessianAccumulator {
  readonly values: Float32Array | Float64Array;
  sequences = 0;
  tokensCounted = 0;

  constructor(
    readonly features: number,
    private readonly gemm: GemmBackend = referenceGemm,
    precision: HessianPrecision = 'float64',
  ) {
    this.values = precision === 'float32' ? new Float32Array(features * features) : new Float64Array(features * features);
  }

  async addBatch(input: LayerInput): Promise<void> {
    checkInput(input, this.features, 'Hessian');
    const { features, tokenMask } = input;

    const decay = this.sequences / (this.sequences + 1);
    if (decay !== 1) for (let i = 0; i < this.values.length; i++) this.values[i] *= decay;
    this.sequences += 1;

    // Scale the kept rows by √(2/n) and add XᵀX: copy X transposed, then
    // H −= (−Xᵀ)·X through the gemm backend.
    const countedTokens: number[] = [];
    for (let t = 0; t < input.tokens; t++) if (tokenMask === undefined || tokenMask[t] !== 0) countedTokens.push(t);
    this.tokensCounted += countedTokens.length;
    if (countedTokens.length === 0) return;

    const scale = Math.sqrt(2 / this.sequences);
    const x = new Float64Array(countedTokens.length * features);
    const negXt = new Float64Array(features * countedTokens.length);
    countedTokens.forEach((t, row) => {
      for (let j = 0; j < features; j++) {
        const value = scale * input.data[t * features + j];
        x[row * features + j] = value;
        negXt[j * countedTokens.length + row] = -value;
      }
    });
    await this.gemm.subtractProduct(features, features, countedTokens.length, negXt, 0, countedTokens.length, x, 0, features, this.values, 0, features);
  }
}
