/** Per-layer statistics collection through the linear-input hooks of one block pass. */
import { HessianAccumulator, RowScaler } from '../algorithms/collectors.js';
import type { GemmBackend } from '../algorithms/linalg.js';
import type { LayerStatistics, StatisticKind } from '../types.js';

export class LayerCollector {
  private readonly scaler?: RowScaler;
  private readonly hessian?: HessianAccumulator;
  sequences = 0;
  tokens = 0;

  constructor(features: number, kinds: readonly StatisticKind[], gemm?: GemmBackend) {
    if (kinds.includes('rowScaler')) this.scaler = new RowScaler(features);
    if (kinds.includes('hessian')) this.hessian = new HessianAccumulator(features, gemm);
  }

  async add(input: Float32Array, rows: number, features: number, tokenMask: Uint8Array | undefined): Promise<void> {
    const batch = { tokens: rows, features, data: input, tokenMask };
    this.scaler?.addBatch(batch);
    await this.hessian?.addBatch(batch);
    this.sequences += 1;
    if (tokenMask === undefined) this.tokens += rows;
    else for (const bit of tokenMask) this.tokens += bit;
  }

  result(): LayerStatistics {
    return { rowScaler: this.scaler?.values, hessian: this.hessian?.values, sequences: this.sequences, tokens: this.tokens };
  }
}
