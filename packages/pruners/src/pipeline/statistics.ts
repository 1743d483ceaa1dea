/**
 * Per-layer statistics collection through the linear-input hooks of one block
 * pass. Without a device the collectors run on the host (float64 row
 * scaler, float32 or float64 Hessian); with one, the runtime's float32
 * accumulators run on it.
 */
import type { Device, Tensor } from '@sculpt/runtime-gpu';
import { HessianAccumulator, RowScaler, type HessianPrecision } from '../algorithms/collectors.js';
import { DeviceStatistics } from '../algorithms/device-collectors.js';
import type { GemmBackend } from '../algorithms/linalg.js';
import type { LayerStatistics, StatisticKind } from '../types.js';

export interface CollectorBackend {
  /** Products of the float64 Hessian; unused when `device` is set. */
  gemm?: GemmBackend;
  /** Device for the float32 accumulators; the host collectors when absent. */
  device?: Device;
  /** Storage of the host Hessian; float32 unless a run sets float64. The device always accumulates in float32. */
  hessianPrecision?: HessianPrecision;
}

export class LayerCollector {
  private readonly scaler?: RowScaler;
  private readonly hessian?: HessianAccumulator;
  private readonly onDevice?: DeviceStatistics;
  private deviceResult?: { rowScaler?: Float64Array; hessian?: Float32Array };
  sequences = 0;
  tokens = 0;

  constructor(features: number, kinds: readonly StatisticKind[], backend: CollectorBackend = {}) {
    const rowScaler = kinds.includes('rowScaler');
    const hessian = kinds.includes('hessian');
    if (backend.device !== undefined && (rowScaler || hessian)) {
      this.onDevice = new DeviceStatistics(backend.device, features, { rowScaler, hessian });
      return;
    }
    if (rowScaler) this.scaler = new RowScaler(features);
    if (hessian) this.hessian = new HessianAccumulator(features, backend.gemm, backend.hessianPrecision ?? 'float32');
  }

  async add(input: Float32Array, rows: number, features: number, tokenMask: Uint8Array | undefined): Promise<void> {
    const batch = { tokens: rows, features, data: input, tokenMask };
    if (this.onDevice !== undefined) {
      await this.onDevice.addBatch(batch);
    } else {
      this.scaler?.addBatch(batch);
      await this.hessian?.addBatch(batch);
    }
    this.sequences += 1;
    if (tokenMask === undefined) this.tokens += rows;
    else for (const bit of tokenMask) this.tokens += bit;
  }

  /**
   * Queues one sequence's device-resident input on the device accumulators
   * without waiting, so it can run inside a device forward pass's hook.
   */
  addOnDevice(input: Tensor, tokenMask: Uint8Array | undefined): void {
    if (this.onDevice === undefined) throw new Error('LayerCollector.addOnDevice needs a collector created with a device backend');
    this.onDevice.addTensor(input, tokenMask);
    this.sequences += 1;
    const rows = input.shape[0];
    if (tokenMask === undefined) this.tokens += rows;
    else for (const bit of tokenMask) this.tokens += bit;
  }

  /** Reads device statistics back to the host; call once after the last `add` and before `result`. */
  async finish(): Promise<void> {
    if (this.onDevice !== undefined && this.deviceResult === undefined) this.deviceResult = await this.onDevice.read();
  }

  /** Releases device memory of a collector whose result is not needed. */
  dispose(): void {
    this.onDevice?.dispose();
  }

  result(): LayerStatistics {
    if (this.onDevice !== undefined) {
      if (this.deviceResult === undefined) throw new Error('LayerCollector.result() called before finish() on a device collector');
      return { ...this.deviceResult, sequences: this.sequences, tokens: this.tokens };
    }
    return { rowScaler: this.scaler?.values, hessian: this.hessian?.values, sequences: this.sequences, tokens: this.tokens };
  }
}
