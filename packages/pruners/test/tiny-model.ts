/**
 * A tiny two-layer-MLP-per-block model for pipeline tests: each block computes
 * x + down(relu(gate(x)) ⊙ up(x)), so gate and up share an input array and
 * down reads the product, like a Llama MLP without attention.
 */
import { Random } from '@sculpt/core';
import type { LinearInputHook, PrunableLinear, PrunableModel } from '../src/pipeline/model.js';

interface Layer {
  name: string;
  outFeatures: number;
  inFeatures: number;
  weight: Float32Array;
}

function linear(x: Float32Array, rows: number, layer: Layer): Float32Array {
  const out = new Float32Array(rows * layer.outFeatures);
  for (let t = 0; t < rows; t++) {
    for (let o = 0; o < layer.outFeatures; o++) {
      let sum = 0;
      for (let i = 0; i < layer.inFeatures; i++) sum += x[t * layer.inFeatures + i] * layer.weight[o * layer.inFeatures + i];
      out[t * layer.outFeatures + o] = sum;
    }
  }
  return out;
}

export class TinyMlpModel implements PrunableModel {
  readonly config: { nLayers: number; dim: number };
  readonly embedding: Float32Array;
  readonly blocks: Layer[][];
  readonly vocab: number;

  constructor(options: { dim?: number; hidden?: number; blocks?: number; vocab?: number; seed?: number } = {}) {
    const dim = options.dim ?? 8;
    const hidden = options.hidden ?? 16;
    const random = new Random(options.seed ?? 1);
    const fill = (n: number, scale: number) => Float32Array.from({ length: n }, () => random.normal() * scale);
    this.vocab = options.vocab ?? 32;
    this.config = { nLayers: options.blocks ?? 2, dim };
    this.embedding = fill(this.vocab * dim, 1);
    this.blocks = Array.from({ length: this.config.nLayers }, () => [
      { name: 'gate', outFeatures: hidden, inFeatures: dim, weight: fill(hidden * dim, 0.5) },
      { name: 'up', outFeatures: hidden, inFeatures: dim, weight: fill(hidden * dim, 0.5) },
      { name: 'down', outFeatures: dim, inFeatures: hidden, weight: fill(dim * hidden, 0.5) },
    ]);
  }

  embed(tokens: ArrayLike<number>): Float32Array {
    const { dim } = this.config;
    const out = new Float32Array(tokens.length * dim);
    for (let t = 0; t < tokens.length; t++) out.set(this.embedding.subarray(tokens[t] * dim, (tokens[t] + 1) * dim), t * dim);
    return out;
  }

  async runBlock(index: number, hidden: Float32Array, rows: number, _positions: ArrayLike<number>, options: { onLinearInput?: LinearInputHook } = {}): Promise<Float32Array> {
    const [gate, up, down] = this.blocks[index];
    options.onLinearInput?.('gate', hidden, rows);
    const g = linear(hidden, rows, gate);
    options.onLinearInput?.('up', hidden, rows);
    const u = linear(hidden, rows, up);
    for (let i = 0; i < g.length; i++) g[i] = Math.max(0, g[i]) * u[i];
    options.onLinearInput?.('down', g, rows);
    const d = linear(g, rows, down);
    const out = Float32Array.from(hidden);
    for (let i = 0; i < out.length; i++) out[i] += d[i];
    return out;
  }

  async block(index: number): Promise<{ linearLayers(): PrunableLinear[] }> {
    const layers = this.blocks[index];
    return {
      linearLayers: () =>
        layers.map((layer) => ({
          name: layer.name,
          outFeatures: layer.outFeatures,
          inFeatures: layer.inFeatures,
          getWeight: () => layer.weight,
          setWeight: (weight: Float32Array) => {
            layer.weight = weight;
          },
        })),
    };
  }

  release(): void {}
}

export function randomSequences(count: number, length: number, vocab: number, seed = 7): { tokens: number[] }[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => ({ tokens: Array.from({ length }, () => random.int(0, vocab - 1)) }));
}
