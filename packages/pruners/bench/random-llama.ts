/**
 * A random Llama-shaped model in llama2.c's legacy checkpoint layout, for the
 * end-to-end benchmark. At scale 1 it has the shape of a 110M-parameter
 * Llama: 12 blocks, dim 768, 12 heads, hidden 2048 and a 32,000-token
 * vocabulary.
 */
import { open } from 'node:fs/promises';
import { Random } from '@sculpt/core';

export interface LlamaShape {
  dim: number;
  hidden: number;
  layers: number;
  heads: number;
  vocab: number;
  seqLen: number;
}

/** Scales dim and hidden of the 110M shape; dim stays a multiple of the 64-wide heads. */
export function llamaShape(scale: number, contextLength: number): LlamaShape {
  const dim = Math.max(64, Math.round((768 * scale) / 64) * 64);
  const hidden = Math.max(32, Math.round((2048 * scale) / 32) * 32);
  return { dim, hidden, layers: 12, heads: dim / 64, vocab: 32000, seqLen: contextLength };
}

/** Float32 values of one decoder block: q, k, v, o, gate, up, down and two norms. */
export function blockParameters(shape: LlamaShape): number {
  return 4 * shape.dim * shape.dim + 3 * shape.dim * shape.hidden + 2 * shape.dim;
}

/** Float32 values of the whole model as the file stores them (shared embedding and head). */
export function modelParameters(shape: LlamaShape): number {
  return shape.vocab * shape.dim + shape.layers * blockParameters(shape) + shape.dim;
}

/**
 * Writes the checkpoint tensor by tensor, so the writer keeps at most one tensor
 * in memory: header (dim, hidden, layers, heads, kv heads, vocab, context),
 * then embedding, attention norms, wq, wk, wv, wo, MLP norms, w1, w2, w3,
 * final norm and the two legacy RoPE tables.
 */
export async function writeRandomLlama(file: string, shape: LlamaShape, seed = 2): Promise<void> {
  const random = new Random(seed);
  const { dim, hidden, layers, heads, vocab, seqLen } = shape;
  const headDim = dim / heads;
  const tensors: { size: number; norm: boolean }[] = [
    { size: vocab * dim, norm: false },
    { size: layers * dim, norm: true },
    { size: layers * dim * dim, norm: false },
    { size: layers * dim * dim, norm: false },
    { size: layers * dim * dim, norm: false },
    { size: layers * dim * dim, norm: false },
    { size: layers * dim, norm: true },
    { size: layers * hidden * dim, norm: false },
    { size: layers * dim * hidden, norm: false },
    { size: layers * hidden * dim, norm: false },
    { size: dim, norm: true },
    { size: (seqLen * headDim) / 2, norm: false },
    { size: (seqLen * headDim) / 2, norm: false },
  ];

  const handle = await open(file, 'w');
  try {
    await handle.write(Buffer.from(Int32Array.from([dim, hidden, layers, heads, heads, vocab, seqLen]).buffer));
    for (const { size, norm } of tensors) {
      const values = new Float32Array(size);
      if (norm) values.fill(1);
      else for (let i = 0; i < size; i++) values[i] = random.normal() * 0.05;
      await handle.write(Buffer.from(values.buffer));
    }
  } finally {
    await handle.close();
  }
}
