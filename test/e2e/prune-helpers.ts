/** Shared pieces of the pruning end-to-end tests: paths, the CLI runner and a tiny llama2.c model writer. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Random } from '@sculpt/core';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const sharedData = resolve(repoRoot, '../shared/data');
export const storiesModel = resolve(sharedData, 'models/stories260K/stories260K.bin');

export function sculpt(args: string[], timeout = 180_000) {
  const result = spawnSync(process.execPath, [resolve(repoRoot, 'tools/cli/bin/sculpt.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, SCULPT_LOG_LEVEL: 'warn' },
    timeout,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Writes a random llama2.c legacy checkpoint: a header of 7 int32
 * (dim, hidden, layers, heads, kv heads, vocab, seq len; a positive vocab
 * means the head shares the embedding) and the float32 tensors in
 * llama2.c's order.
 */
export function writeTinyLlama(file: string, options: { dim: number; hidden: number; layers: number; heads: number; kvHeads: number; vocab: number; seqLen: number; seed: number }): void {
  const { dim, hidden, layers, heads, kvHeads, vocab, seqLen } = options;
  const headSize = dim / heads;
  const random = new Random(options.seed);
  const parts: Float32Array[] = [];
  const normal = (count: number, scale: number) => Float32Array.from({ length: count }, () => random.normal() * scale);
  const ones = (count: number) => new Float32Array(count).fill(1);

  parts.push(normal(vocab * dim, 0.5));
  parts.push(ones(layers * dim));
  parts.push(normal(layers * dim * dim, 0.3));
  parts.push(normal(layers * kvHeads * headSize * dim, 0.3));
  parts.push(normal(layers * kvHeads * headSize * dim, 0.3));
  parts.push(normal(layers * dim * dim, 0.3));
  parts.push(ones(layers * dim));
  parts.push(normal(layers * hidden * dim, 0.3));
  parts.push(normal(layers * dim * hidden, 0.3));
  parts.push(normal(layers * hidden * dim, 0.3));
  parts.push(ones(dim));
  parts.push(new Float32Array(seqLen * (headSize / 2)));
  parts.push(new Float32Array(seqLen * (headSize / 2)));

  const header = Int32Array.from([dim, hidden, layers, heads, kvHeads, vocab, seqLen]);
  const floats = parts.reduce((sum, part) => sum + part.length, 0);
  const buffer = Buffer.alloc(header.byteLength + floats * 4);
  Buffer.from(header.buffer).copy(buffer, 0);
  let offset = header.byteLength;
  for (const part of parts) {
    Buffer.from(part.buffer).copy(buffer, offset);
    offset += part.byteLength;
  }
  writeFileSync(file, buffer);
}
