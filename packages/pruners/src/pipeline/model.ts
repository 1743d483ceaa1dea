/**
 * The slice of a loaded model the pruning pipeline uses. `CausalLM` from
 * `@sculpt/runtime-gpu` satisfies it structurally; tests and other runtimes
 * can supply their own.
 */

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

export interface PrunableModel {
  config: { nLayers: number; dim: number };
  embed(tokens: ArrayLike<number>, positions: ArrayLike<number>): Float32Array;
  runBlock(
    index: number,
    hidden: Float32Array,
    rows: number,
    positions: ArrayLike<number>,
    options?: { keyMask?: Uint8Array; onLinearInput?: LinearInputHook },
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
