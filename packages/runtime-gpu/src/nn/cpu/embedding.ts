/** Embedding gather and its deterministic scatter-add backward. */

export function embeddingForward(table: Float32Array, dim: number, ids: Int32Array): Float32Array {
  const vocab = table.length / dim;
  const out = new Float32Array(ids.length * dim);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (id < 0 || id >= vocab) throw new RangeError(`embedding: token id ${id} at position ${t} is outside the vocabulary [0, ${vocab}); check the tokenizer and the model's vocab size`);
    out.set(table.subarray(id * dim, (id + 1) * dim), t * dim);
  }
  return out;
}

/**
 * Sums dy rows into their vocabulary rows. Tokens are visited in a sorted order
 * (by id, then position), the same segmented order the GPU kernel uses, so both
 * devices add in the same sequence.
 */
export function embeddingBackward(dy: Float32Array, dim: number, ids: Int32Array, vocab: number): Float32Array {
  const order = Array.from(ids.keys()).sort((a, b) => ids[a] - ids[b] || a - b);
  const dTable = new Float32Array(vocab * dim);
  for (const t of order) {
    const row = ids[t] * dim;
    for (let c = 0; c < dim; c++) dTable[row + c] += dy[t * dim + c];
  }
  return dTable;
}
