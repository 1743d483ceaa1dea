/**
 * Spill files for changed block weights. Pruning changes every block, and a
 * changed block cannot be read back from the model file, so without spilling
 * the whole pruned model would stay in memory until it is saved. Released
 * changed blocks go instead to one float32 file per block in a private
 * temporary folder, which `dispose()` removes.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockWeights } from './weights.js';

export class BlockSpill {
  #folder: string | null = null;
  readonly #files = new Map<number, string>();

  /** The temporary folder, or null before the first spill and after `dispose()`. */
  get folder(): string | null {
    return this.#folder;
  }

  /** Returns whether block `index` is in a spill file. */
  has(index: number): boolean {
    return this.#files.has(index);
  }

  /**
   * Writes the linear weights of block `index` to its spill file, in the
   * order of `weights.linears`. The write is synchronous, so that
   * `CausalLM.release` stays synchronous. A block of a 7B model is about 800 MB.
   */
  write(index: number, weights: BlockWeights): void {
    this.#folder ??= mkdtempSync(join(tmpdir(), 'sculpt-blocks-'));
    const file = join(this.#folder, `block-${index}.f32`);
    const fd = openSync(file, 'w');
    try {
      for (const layer of weights.linears.values()) {
        const bytes = new Uint8Array(layer.weight.buffer, layer.weight.byteOffset, layer.weight.byteLength);
        // writeSync may write less than asked, so it is repeated until the layer is out.
        for (let written = 0; written < bytes.byteLength; ) written += writeSync(fd, bytes, written);
      }
    } finally {
      closeSync(fd);
    }
    this.#files.set(index, file);
  }

  /** Replaces the linear weights of `weights` (block `index` as the model file has it) with the spilled ones. */
  restore(index: number, weights: BlockWeights): void {
    const file = this.#files.get(index);
    if (file === undefined) throw new Error(`block ${index} was never spilled`);
    const fd = openSync(file, 'r');
    try {
      let position = 0;
      for (const layer of weights.linears.values()) {
        const weight = new Float32Array(layer.outFeatures * layer.inFeatures);
        const bytes = new Uint8Array(weight.buffer);
        const read = readSync(fd, bytes, 0, bytes.byteLength, position);
        if (read !== bytes.byteLength) throw new Error(`spill file ${file} is shorter than block ${index}'s weights; it was changed or truncated`);
        layer.weight = weight;
        position += bytes.byteLength;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the spill folder and every file in it. */
  dispose(): void {
    if (this.#folder !== null) rmSync(this.#folder, { recursive: true, force: true });
    this.#folder = null;
    this.#files.clear();
  }
}
