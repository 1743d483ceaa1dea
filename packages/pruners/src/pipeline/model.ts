/**
 * The slice of a loaded model the pruning pipeline uses. `CausalLM` from
 * `@sculpt/runtime-gpu` satisfies it structurally; tests and other runtimes
 * can supply their own.
 */
import type { Device, Tensor } from '@sculpt/runtime-gpu';

/** One linear layer of a block as an [out, in] float32 matrix. */
export interface PrunableLinear {
  /** Module name inside the block, e.g. "self_attn.q_proj". */
  name: string;
  outFeatures: number;
  inFeatures: number;
  getWeight(): Float32Array;
  setWeight(weight: Float32Array): void;
}

/** Receives one linear layer's input `[rows, inFeatures]`; layers sharing an input get the same array. */
export type LinearInputHook = (name: string, input: Float32Array, rows: number) => void;

/**
 * Receives one linear layer's input as a device tensor during a device
 * forward pass; layers sharing an input get the same tensor. The tensor is
 * freed when the pass returns, so the hook must queue its work at once.
 */
export type DeviceLinearInputHook = (name: string, input: Tensor) => void;

export interface PrunableModel {
  config: { nLayers: number; dim: number };
  /** Device the blocks run on; the pipeline runs its passes there when it matches the pruning device. */
  readonly device?: Device;
  embed(tokens: ArrayLike<number>, positions: ArrayLike<number>): Float32Array;
  runBlock(
    index: number,
    hidden: Float32Array,
    rows: number,
    positions: ArrayLike<number>,
    options?: { keyMask?: Uint8Array; onLinearInput?: LinearInputHook; onDeviceLinearInput?: DeviceLinearInputHook },
  ): Promise<Float32Array>;
  block(index: number): Promise<{ linearLayers(): PrunableLinear[] }>;
  /** Drops an unmodified block from memory. */
  release(index: number): void;
}

/** A calibration sequence: token ids plus 1 = real token, 0 = padding. */
export interface CalibrationSequence {
  tokens: ArrayLike<number>;
  mask?: Uint8Array;
}

/** Hidden states entering a block for one sequence. */
export interface BlockState {
  hidden: Float32Array;
  rows: number;
  positions: Int32Array;
  keyMask: Uint8Array;
}

/** One pass of a block over the calibration sequences. */
export interface BlockPass {
  model: PrunableModel;
  /** Block number. */
  index: number;
  /** Each sequence's input to the block. */
  states: BlockState[];
  /** The block's linear layers by name. */
  linears: Map<string, PrunableLinear>;
}
