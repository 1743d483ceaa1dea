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
  /** Products of the host Hessian; unused when `device` is set. */
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

/** Layers whose inputs are the same array or tensor in the hook form one true-sequential group. */
export type LayerGroups = string[][];

/**
 * The collectors of one statistics pass over a block. Layers that receive the
 * same input array or tensor (q, k, v; gate, up) share one collector, so their
 * common Hessian is accumulated and stored once. Layers that `selected` leaves
 * out get none. The hook order of the first sequence gives the layer groups
 * of true-sequential pruning.
 */
export class PassCollectors {
  readonly groups: LayerGroups = [];
  private readonly byName = new Map<string, LayerCollector>();
  /** Layers that own their collector; a layer sharing another's input is fed through the owner. */
  private readonly owners = new Set<string>();
  private lastInput: unknown;
  private lastName: string | undefined;

  constructor(
    private readonly features: (name: string) => number,
    private readonly kinds: readonly StatisticKind[],
    private readonly backend: CollectorBackend,
    /** Filter on the layers to collect, by name and group index (the order of first inputs); all when absent. */
    private readonly selected?: (name: string, group: number) => boolean,
  ) {}

  /** Resets the shared-input tracking; call before each sequence's forward pass. */
  startSequence(): void {
    this.lastInput = undefined;
    this.lastName = undefined;
  }

  /**
   * Routes one hook call: returns the collector to feed with `input`, or
   * undefined when the layer is not collected or shares the input another
   * layer already fed. On the first sequence it also records the groups.
   */
  route(name: string, input: unknown, firstSequence: boolean): LayerCollector | undefined {
    if (firstSequence) {
      const shared = input === this.lastInput && this.lastName !== undefined;
      if (shared) this.groups[this.groups.length - 1].push(name);
      else this.groups.push([name]);

      if (this.selected === undefined || this.selected(name, this.groups.length - 1)) {
        const owner = shared ? this.byName.get(this.lastName!) : undefined;
        if (owner !== undefined) {
          this.byName.set(name, owner);
        } else {
          this.byName.set(name, new LayerCollector(this.features(name), this.kinds, this.backend));
          this.owners.add(name);
        }
      }
      this.lastInput = input;
      this.lastName = name;
    }
    return this.owners.has(name) ? this.byName.get(name) : undefined;
  }

  /**
   * Without calibration sequences no hook runs: gives every selected layer its
   * own empty collector and puts all layers in one group.
   */
  coverUnseen(names: readonly string[]): void {
    if (this.groups.length === 0) this.groups.push([...names]);
    for (const name of names) {
      if (this.byName.has(name) || (this.selected !== undefined && !this.selected(name, 0))) continue;
      this.byName.set(name, new LayerCollector(this.features(name), this.kinds, this.backend));
      this.owners.add(name);
    }
  }

  get(name: string): LayerCollector | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  async finish(): Promise<void> {
    for (const name of this.owners) await this.byName.get(name)?.finish();
  }

  /** Drops a layer's collector; it is disposed when no other layer shares it. */
  release(name: string): void {
    const collector = this.byName.get(name);
    if (collector === undefined) return;
    this.byName.delete(name);
    if (![...this.byName.values()].includes(collector)) collector.dispose();
  }

  /** Drops every collector, as after a failed pass. */
  releaseAll(): void {
    for (const name of this.names()) this.release(name);
  }
}
