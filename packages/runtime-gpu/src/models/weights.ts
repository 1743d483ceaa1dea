/** In-memory weights of a decoder-only model, all float32 whatever the file stores. */

/** A linear layer y = x Wᵀ + b with W stored row-major as [out, in]. */
export interface LinearWeights {
  outFeatures: number;
  inFeatures: number;
  weight: Float32Array;
  bias?: Float32Array;
}

/** RMSNorm (weight only) or LayerNorm (weight and bias). */
export interface NormWeights {
  weight: Float32Array;
  bias?: Float32Array;
}

/** One decoder block: linear layers and norms keyed by their Hugging Face module names. */
export interface BlockWeights {
  linears: Map<string, LinearWeights>;
  norms: Map<string, NormWeights>;
}

/** Weights outside the decoder blocks. */
export interface TopWeights {
  /** Token embedding [vocab, dim]. */
  embedding: Float32Array;
  /** Learned position table [positions, dim] (opt, gpt2). */
  positions?: Float32Array;
  finalNorm: NormWeights;
  /** Output head [vocab, dim]; the same array as `embedding` when tied. */
  head: Float32Array;
  /** Output head bias, when the format has one. */
  headBias?: Float32Array;
}

/** Names of the tensors holding non-finite values, for the NaN/Inf warning. */
export function findNonFinite(named: Iterable<[string, Float32Array | undefined]>): string[] {
  const bad: string[] = [];
  for (const [name, values] of named) {
    if (values === undefined) continue;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        bad.push(name);
        break;
      }
    }
  }
  return bad;
}

/** Every named float tensor of a block, for scans and checks. */
export function blockTensors(block: BlockWeights): [string, Float32Array | undefined][] {
  const out: [string, Float32Array | undefined][] = [];
  for (const [name, linear] of block.linears) {
    out.push([`${name}.weight`, linear.weight], [`${name}.bias`, linear.bias]);
  }
  for (const [name, norm] of block.norms) {
    out.push([`${name}.weight`, norm.weight], [`${name}.bias`, norm.bias]);
  }
  return out;
}
