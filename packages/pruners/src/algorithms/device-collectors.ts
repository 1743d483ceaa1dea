/**
 * Wanda's row scaler and SparseGPT's Hessian accumulated on a runtime device
 * (`cpu` through onnxruntime, `webgpu` through WGSL) in float32. The float64
 * collectors in `collectors.ts` remain the reference these are tested against.
 *
 * One calibration sequence counts as one sample, as in `collectors.ts`, so
 * the results are s_j = Σ x²_j / N and H = (2/N)·XᵀX over N sequences.
 */
import { HessianAccumulator as DeviceHessian, WandaScalerAccumulator as DeviceScaler, mul, type Device, type Tensor } from '@sculpt/runtime-gpu';
import type { LayerInput } from './collectors.js';
import { InputError } from '@sculpt/core';

export class DeviceStatistics {
  private scaler?: DeviceScaler;
  private hessian?: DeviceHessian;
  sequences = 0;
  tokensCounted = 0;

  constructor(
    private readonly device: Device,
    readonly features: number,
    kinds: { rowScaler: boolean; hessian: boolean },
  ) {
    if (kinds.rowScaler) this.scaler = new DeviceScaler(device, features);
    if (kinds.hessian) this.hessian = new DeviceHessian(device, features);
  }

  /**
   * Uploads one sequence's counted rows and queues both updates, then waits
   * for the device so at most one chunk per layer is in flight (the hooks can
   * produce chunks faster than lavapipe consumes them).
   */
  async addBatch(input: LayerInput): Promise<void> {
    const { tokens, features, data, tokenMask } = input;
    if (features !== this.features) throw new InputError(`device statistics: input has ${features} features but the layer has ${this.features}`);
    if (data.length !== tokens * features) throw new InputError(`device statistics: input data has ${data.length} values, expected ${tokens}×${features}`);

    const counted = countedRows(tokens, tokenMask);
    this.sequences += 1;
    this.tokensCounted += counted.length;

    // A sequence with every position masked still counts as a sample, so the
    // earlier sequences decay by n/(n+1) as in the float64 collector. One
    // zero row adds nothing to either sum.
    const rows = Math.max(counted.length, 1);
    const chunk = new Float32Array(rows * features);
    counted.forEach((t, row) => chunk.set(data.subarray(t * features, (t + 1) * features), row * features));

    const x = this.device.tensor(chunk, [rows, features]);
    try {
      this.scaler?.add(x, 1);
      this.hessian?.add(x, 1);
    } finally {
      x.dispose();
    }
    await this.device.sync();
  }

  /**
   * Queues both updates for one sequence's input that already lives on the
   * device (a linear input inside a device forward pass). Masked positions
   * are multiplied by zero rather than removed: a zero row adds nothing to
   * XᵀX or to the column sums, and the sequence still counts as one sample.
   * Nothing is awaited, so this may run inside a forward pass's hook.
   */
  addTensor(x: Tensor, tokenMask: Uint8Array | undefined): void {
    const [tokens, features] = x.shape;
    if (features !== this.features) throw new InputError(`device statistics: input has ${features} features but the layer has ${this.features}`);
    if (tokenMask !== undefined && tokenMask.length !== tokens) throw new InputError(`device statistics: token mask has ${tokenMask.length} entries for ${tokens} rows`);

    const counted = countedRows(tokens, tokenMask).length;
    this.sequences += 1;
    this.tokensCounted += counted;

    let input = x;
    let rowWeights: Tensor | undefined;
    if (counted < tokens) {
      rowWeights = this.device.tensor(Float32Array.from(tokenMask!, (bit) => (bit === 0 ? 0 : 1)), [tokens, 1]);
      input = mul(x, rowWeights);
    }
    try {
      this.scaler?.add(input, 1);
      this.hessian?.add(input, 1);
    } finally {
      if (input !== x) input.dispose();
      rowWeights?.dispose();
    }
  }

  /** Reads the statistics back (scaler in float64, Hessian in float32 as accumulated) and releases the device memory. */
  async read(): Promise<{ rowScaler?: Float64Array; hessian?: Float32Array }> {
    try {
      const rowScaler = this.scaler === undefined ? undefined : Float64Array.from(await this.scaler.scaler.read());
      const hessian = this.hessian === undefined ? undefined : asFloat32(await this.hessian.hessian.read());
      return { rowScaler, hessian };
    } finally {
      this.dispose();
    }
  }

  dispose(): void {
    this.scaler?.dispose();
    this.hessian?.dispose();
    this.scaler = undefined;
    this.hessian = undefined;
  }
}

function countedRows(tokens: number, tokenMask: Uint8Array | undefined): number[] {
  const rows: number[] = [];
  for (let t = 0; t < tokens; t++) if (tokenMask === undefined || tokenMask[t] !== 0) rows.push(t);
  return rows;
}

/** `read()` already returns a fresh copy; convert only when it is not float32. */
function asFloat32(values: ArrayLike<number>): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}
