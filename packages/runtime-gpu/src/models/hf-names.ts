/**
 * Tensor names and storage layouts of Hugging Face checkpoints, per family.
 * A binding ties one checkpoint tensor to one place in the in-memory weights.
 */
import { BLOCK_LAYOUTS, linearShapes, type ModelConfig } from './config.js';
import type { HfBiases } from './hf-config.js';
import type { BlockWeights, TopWeights } from './weights.js';

export type BindingTarget =
  | { kind: 'embedding' | 'positions' | 'head' | 'headBias' | 'finalNormWeight' | 'finalNormBias' }
  | { kind: 'linearWeight' | 'linearBias' | 'normWeight' | 'normBias'; block: number; local: string };

export interface TensorBinding {
  name: string;
  /** Shape in the file. */
  shape: number[];
  target: BindingTarget;
  /** Stored as [in, out] (GPT-2's Conv1D), so it is transposed on load and save. */
  transposed: boolean;
  /** May be absent from the file (a tied head). */
  optional: boolean;
}

/** Name prefixes seen in published checkpoints, most common first. */
const PREFIXES: Record<ModelConfig['family'], string[]> = {
  llama: ['model.', ''],
  opt: ['model.decoder.', 'decoder.', ''],
  gpt2: ['', 'transformer.'],
};

function embeddingName(family: ModelConfig['family'], prefix: string): string {
  return family === 'gpt2' ? `${prefix}wte.weight` : `${prefix}embed_tokens.weight`;
}

/** Picks the prefix whose embedding tensor exists, or the default when none does. */
export function detectPrefix(family: ModelConfig['family'], has: (name: string) => boolean): string {
  return PREFIXES[family].find((prefix) => has(embeddingName(family, prefix))) ?? PREFIXES[family][0];
}

/** Every tensor a checkpoint of this config holds, in the order a fresh writer emits them. */
export function hfBindings(config: ModelConfig, biases: HfBiases, prefix: string): TensorBinding[] {
  const { family, dim, vocabSize } = config;
  const bindings: TensorBinding[] = [];
  const add = (name: string, shape: number[], target: BindingTarget, transposed = false, optional = false) =>
    bindings.push({ name, shape, target, transposed, optional });

  add(embeddingName(family, prefix), [vocabSize, dim], { kind: 'embedding' });
  if (family === 'opt') add(`${prefix}embed_positions.weight`, [config.maxSeqLen + config.positionOffset, dim], { kind: 'positions' });
  if (family === 'gpt2') add(`${prefix}wpe.weight`, [config.maxSeqLen, dim], { kind: 'positions' });

  const layout = BLOCK_LAYOUTS[family];
  const shapes = linearShapes(config);
  const blockPrefix = (i: number) => (family === 'gpt2' ? `${prefix}h.${i}.` : `${prefix}layers.${i}.`);
  for (let i = 0; i < config.nLayers; i++) {
    const base = blockPrefix(i);
    for (const [norm] of [[layout.attentionNorm], [layout.mlpNorm]]) {
      add(`${base}${norm}.weight`, [dim], { kind: 'normWeight', block: i, local: norm });
      if (biases.norms) add(`${base}${norm}.bias`, [dim], { kind: 'normBias', block: i, local: norm });
    }
    for (const local of layout.linears) {
      const [out, inFeatures] = shapes.get(local)!;
      const transposed = family === 'gpt2';
      add(`${base}${local}.weight`, transposed ? [inFeatures, out] : [out, inFeatures], { kind: 'linearWeight', block: i, local }, transposed);
      if (hasBias(config, biases, local)) add(`${base}${local}.bias`, [out], { kind: 'linearBias', block: i, local });
    }
  }

  let finalNorm = `${prefix}ln_f`;
  if (family === 'llama') finalNorm = `${prefix}norm`;
  else if (family === 'opt') finalNorm = `${prefix}final_layer_norm`;
  add(`${finalNorm}.weight`, [dim], { kind: 'finalNormWeight' });
  if (biases.norms) add(`${finalNorm}.bias`, [dim], { kind: 'finalNormBias' });
  add('lm_head.weight', [vocabSize, dim], { kind: 'head' }, false, config.tiedEmbeddings);
  return bindings;
}

function hasBias(config: ModelConfig, biases: HfBiases, local: string): boolean {
  const layout = BLOCK_LAYOUTS[config.family];
  if (local === layout.query || local === layout.key || local === layout.value || local === layout.fusedQkv) return biases.qkv;
  if (local === layout.output) return biases.output;
  return biases.mlp;
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/** Reads the in-memory tensor a binding points to, in the file's layout. */
export function readBound(binding: TensorBinding, top: TopWeights, block: BlockWeights | undefined): Float32Array {
  const target = binding.target;
  let values: Float32Array | undefined;
  switch (target.kind) {
    case 'embedding':
      values = top.embedding;
      break;
    case 'positions':
      values = top.positions;
      break;
    case 'head':
      values = top.head;
      break;
    case 'headBias':
      values = top.headBias;
      break;
    case 'finalNormWeight':
      values = top.finalNorm.weight;
      break;
    case 'finalNormBias':
      values = top.finalNorm.bias;
      break;
    case 'linearWeight':
      values = block!.linears.get(target.local)!.weight;
      break;
    case 'linearBias':
      values = block!.linears.get(target.local)!.bias;
      break;
    case 'normWeight':
      values = block!.norms.get(target.local)!.weight;
      break;
    case 'normBias':
      values = block!.norms.get(target.local)!.bias;
      break;
  }
  if (values === undefined) throw new Error(`the model has no values for ${binding.name}`);
  return binding.transposed ? transpose(values, binding.shape[1], binding.shape[0]) : values;
}
