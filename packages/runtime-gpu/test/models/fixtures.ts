/**
 * Test fixtures: paths to the shared data, a hand-rolled safetensors writer
 * (independent of the one under test), random Hugging Face models, and a
 * float64 reference forward pass written from the Hugging Face module
 * definitions, independent of `src/models`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '@sculpt/core';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
export const dataDir = resolve(repoRoot, '../shared/data');
export const storiesModel = join(dataDir, 'models/stories260K/stories260K.bin');
export const storiesTokenizer = join(dataDir, 'models/stories260K/tok512.bin');

/** The text llama2.c's `run stories260K.bin -z tok512.bin -t 0.0` prints (from karpathy's llama2.c docs). */
export const STORIES_REFERENCE_TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. ' +
  'She wanted to play with it, but it was too high.\n' +
  'Lily\'s mom said, "Lily, let\'s go to the park." Lily was sad and didn\'t know what to do. She said, "I want to play with your ball, but I can\'t find it."\n' +
  'Lily was sad and didn\'t know what to do. She said, "I\'m sorry, Lily. I didn\'t know what to do."\n' +
  'Lily didn\'t want to help her mom, so she said, "I\'m sorry, mom. I didn\'t know what to do." Her mom said, "Don\'t worry, Lily. We can help you."';

/** Decodes llama2.c token ids with tok512.bin's pieces (byte tokens <0xNN> become bytes; a leading space after BOS is dropped, as run.c does). */
export function decodeWithPieces(tokenizerBytes: Buffer, ids: number[]): string {
  const pieces: string[] = [];
  let offset = 4;
  while (offset < tokenizerBytes.length) {
    offset += 4;
    const length = tokenizerBytes.readInt32LE(offset);
    offset += 4;
    pieces.push(tokenizerBytes.subarray(offset, offset + length).toString('latin1'));
    offset += length;
  }
  const bytes: number[] = [];
  ids.forEach((id, i) => {
    const piece = pieces[id];
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
    const text = byte !== null ? String.fromCharCode(parseInt(byte[1], 16)) : i === 0 && piece.startsWith(' ') ? piece.slice(1) : piece;
    for (const char of text) bytes.push(char.charCodeAt(0));
  });
  return Buffer.from(bytes).toString('utf8');
}

export type NamedTensors = Map<string, { shape: number[]; values: Float64Array }>;

/** Writes F32 safetensors from float64 values, byte by byte, without the library under test. */
export async function writeSafetensorsByHand(path: string, tensors: NamedTensors): Promise<void> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, tensor] of tensors) {
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + tensor.values.length * 4] };
    offset += tensor.values.length * 4;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let position = 8 + json.length;
  for (const tensor of tensors.values()) {
    for (const value of tensor.values) {
      out.writeFloatLE(value, position);
      position += 4;
    }
  }
  await writeFile(path, out);
}

/** Float32-rounded normal values, so the float64 reference uses exactly the values the file stores. */
function randomValues(random: Random, count: number, std: number, mean = 0): Float64Array {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = Math.fround(mean + std * random.normal());
  return values;
}

export type TinyFamily = 'llama' | 'qwen2' | 'opt' | 'gpt2';

export interface TinyModel {
  config: Record<string, unknown>;
  tensors: NamedTensors;
}

/** Builds a small random checkpoint of a family with Hugging Face names and layouts. */
export function tinyHfModel(family: TinyFamily, seed: number): TinyModel {
  const random = new Random(seed);
  const dim = 16;
  const heads = 4;
  const kvHeads = family === 'llama' || family === 'qwen2' ? 2 : heads;
  const headDim = dim / heads;
  const hidden = 24;
  const layers = 2;
  const vocab = 40;
  const positions = 32;
  const tensors: NamedTensors = new Map();
  const add = (name: string, shape: number[], std = 0.3, mean = 0) => tensors.set(name, { shape, values: randomValues(random, shape.reduce((a, b) => a * b, 1), std, mean) });

  if (family === 'gpt2') {
    add('wte.weight', [vocab, dim]);
    add('wpe.weight', [positions, dim]);
    for (let i = 0; i < layers; i++) {
      const p = `h.${i}.`;
      add(`${p}ln_1.weight`, [dim], 0.1, 1);
      add(`${p}ln_1.bias`, [dim], 0.1);
      add(`${p}attn.c_attn.weight`, [dim, 3 * dim]);
      add(`${p}attn.c_attn.bias`, [3 * dim], 0.1);
      add(`${p}attn.c_proj.weight`, [dim, dim]);
      add(`${p}attn.c_proj.bias`, [dim], 0.1);
      add(`${p}ln_2.weight`, [dim], 0.1, 1);
      add(`${p}ln_2.bias`, [dim], 0.1);
      add(`${p}mlp.c_fc.weight`, [dim, hidden]);
      add(`${p}mlp.c_fc.bias`, [hidden], 0.1);
      add(`${p}mlp.c_proj.weight`, [hidden, dim]);
      add(`${p}mlp.c_proj.bias`, [dim], 0.1);
    }
    add('ln_f.weight', [dim], 0.1, 1);
    add('ln_f.bias', [dim], 0.1);
    return {
      config: { architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: dim, n_head: heads, n_layer: layers, n_positions: positions, n_inner: hidden, vocab_size: vocab, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new' },
      tensors,
    };
  }

  if (family === 'opt') {
    add('model.decoder.embed_tokens.weight', [vocab, dim]);
    add('model.decoder.embed_positions.weight', [positions + 2, dim]);
    for (let i = 0; i < layers; i++) {
      const p = `model.decoder.layers.${i}.`;
      for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
        add(`${p}self_attn.${proj}.weight`, [dim, dim]);
        add(`${p}self_attn.${proj}.bias`, [dim], 0.1);
      }
      add(`${p}self_attn_layer_norm.weight`, [dim], 0.1, 1);
      add(`${p}self_attn_layer_norm.bias`, [dim], 0.1);
      add(`${p}fc1.weight`, [hidden, dim]);
      add(`${p}fc1.bias`, [hidden], 0.1);
      add(`${p}fc2.weight`, [dim, hidden]);
      add(`${p}fc2.bias`, [dim], 0.1);
      add(`${p}final_layer_norm.weight`, [dim], 0.1, 1);
      add(`${p}final_layer_norm.bias`, [dim], 0.1);
    }
    add('model.decoder.final_layer_norm.weight', [dim], 0.1, 1);
    add('model.decoder.final_layer_norm.bias', [dim], 0.1);
    return {
      config: { architectures: ['OPTForCausalLM'], model_type: 'opt', hidden_size: dim, ffn_dim: hidden, num_attention_heads: heads, num_hidden_layers: layers, max_position_embeddings: positions, vocab_size: vocab, do_layer_norm_before: true, word_embed_proj_dim: dim, activation_function: 'relu', enable_bias: true },
      tensors,
    };
  }

  // Llama and Qwen2: Qwen2 adds q/k/v biases; this Llama keeps an untied head.
  add('model.embed_tokens.weight', [vocab, dim]);
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    add(`${p}input_layernorm.weight`, [dim], 0.1, 1);
    add(`${p}self_attn.q_proj.weight`, [heads * headDim, dim]);
    add(`${p}self_attn.k_proj.weight`, [kvHeads * headDim, dim]);
    add(`${p}self_attn.v_proj.weight`, [kvHeads * headDim, dim]);
    if (family === 'qwen2') {
      add(`${p}self_attn.q_proj.bias`, [heads * headDim], 0.1);
      add(`${p}self_attn.k_proj.bias`, [kvHeads * headDim], 0.1);
      add(`${p}self_attn.v_proj.bias`, [kvHeads * headDim], 0.1);
    }
    add(`${p}self_attn.o_proj.weight`, [dim, heads * headDim]);
    add(`${p}post_attention_layernorm.weight`, [dim], 0.1, 1);
    add(`${p}mlp.gate_proj.weight`, [hidden, dim]);
    add(`${p}mlp.up_proj.weight`, [hidden, dim]);
    add(`${p}mlp.down_proj.weight`, [dim, hidden]);
  }
  add('model.norm.weight', [dim], 0.1, 1);
  if (family === 'llama') add('lm_head.weight', [vocab, dim]);
  return {
    config: {
      architectures: [family === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
      hidden_size: dim,
      intermediate_size: hidden,
      num_attention_heads: heads,
      num_key_value_heads: kvHeads,
      num_hidden_layers: layers,
      max_position_embeddings: positions,
      vocab_size: vocab,
      rms_norm_eps: 1e-6,
      rope_theta: 500,
      tie_word_embeddings: family === 'qwen2',
    },
    tensors,
  };
}

export async function writeTinyHfModel(folder: string, model: TinyModel): Promise<void> {
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'config.json'), JSON.stringify(model.config, null, 2));
  await writeSafetensorsByHand(join(folder, 'model.safetensors'), model.tensors);
}

/** Float64 logits [tokens, vocab] of a tiny model, computed from the Hugging Face definitions. */
export function referenceLogits(family: TinyFamily, model: TinyModel, tokens: number[]): Float64Array {
  const c = model.config as Record<string, number>;
  const t = (name: string) => {
    const tensor = model.tensors.get(name);
    if (tensor === undefined) throw new Error(`reference: missing ${name}`);
    return tensor.values;
  };
  const T = tokens.length;
  const dim = (c.hidden_size ?? c.n_embd) as number;
  const heads = (c.num_attention_heads ?? c.n_head) as number;
  const kvHeads = (c.num_key_value_heads ?? heads) as number;
  const layers = (c.num_hidden_layers ?? c.n_layer) as number;
  const vocab = c.vocab_size;
  const hd = dim / heads;

  // y[t][o] = Σ_i x[t][i] W[o][i] (+ b), W given [out, in]; GPT-2's Conv1D passes [in, out] with conv = true.
  const linear = (x: number[][], w: Float64Array, out: number, b?: Float64Array, conv = false) =>
    x.map((row) =>
      Array.from({ length: out }, (_, o) => {
        let s = b ? b[o] : 0;
        for (let i = 0; i < row.length; i++) s += row[i] * (conv ? w[i * out + o] : w[o * row.length + i]);
        return s;
      }),
    );
  const rms = (x: number[][], w: Float64Array, eps: number) =>
    x.map((row) => {
      const scale = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length + eps);
      return row.map((v, i) => v * scale * w[i]);
    });
  const ln = (x: number[][], w: Float64Array, b: Float64Array, eps: number) =>
    x.map((row) => {
      const mean = row.reduce((s, v) => s + v, 0) / row.length;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
      return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * w[i] + b[i]);
    });
  // Mistral's sliding window: position i sees keys j with i − j < window.
  const window = model.config.architectures !== undefined && (model.config.architectures as string[])[0] === 'MistralForCausalLM' ? (c.sliding_window ?? Infinity) : Infinity;
  const attend = (q: number[][], k: number[][], v: number[][]) =>
    q.map((_, i) => {
      const out = new Array(heads * hd).fill(0);
      for (let h = 0; h < heads; h++) {
        const kh = Math.floor(h / (heads / kvHeads));
        const scores = Array.from({ length: i + 1 }, (_, j) => {
          if (i - j >= window) return -Infinity;
          let s = 0;
          for (let d = 0; d < hd; d++) s += q[i][h * hd + d] * k[j][kh * hd + d];
          return s / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const total = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= i; j++) for (let d = 0; d < hd; d++) out[h * hd + d] += (e[j] / total) * v[j][kh * hd + d];
      }
      return out;
    });
  const add = (a: number[][], b: number[][]) => a.map((row, i) => row.map((v, j) => v + b[i][j]));

  let x: number[][];
  if (family === 'gpt2') {
    x = tokens.map((token, p) => Array.from({ length: dim }, (_, i) => t('wte.weight')[token * dim + i] + t('wpe.weight')[p * dim + i]));
    for (let l = 0; l < layers; l++) {
      const p = `h.${l}.`;
      const h = ln(x, t(`${p}ln_1.weight`), t(`${p}ln_1.bias`), 1e-5);
      const qkv = linear(h, t(`${p}attn.c_attn.weight`), 3 * dim, t(`${p}attn.c_attn.bias`), true);
      const a = attend(qkv.map((r) => r.slice(0, dim)), qkv.map((r) => r.slice(dim, 2 * dim)), qkv.map((r) => r.slice(2 * dim)));
      x = add(x, linear(a, t(`${p}attn.c_proj.weight`), dim, t(`${p}attn.c_proj.bias`), true));
      const h2 = ln(x, t(`${p}ln_2.weight`), t(`${p}ln_2.bias`), 1e-5);
      const f = linear(h2, t(`${p}mlp.c_fc.weight`), c.n_inner, t(`${p}mlp.c_fc.bias`), true).map((r) =>
        r.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))),
      );
      x = add(x, linear(f, t(`${p}mlp.c_proj.weight`), dim, t(`${p}mlp.c_proj.bias`), true));
    }
    x = ln(x, t('ln_f.weight'), t('ln_f.bias'), 1e-5);
    return Float64Array.from(linear(x, t('wte.weight'), vocab).flat());
  }

  if (family === 'opt') {
    const d = 'model.decoder.';
    x = tokens.map((token, p) => Array.from({ length: dim }, (_, i) => t(`${d}embed_tokens.weight`)[token * dim + i] + t(`${d}embed_positions.weight`)[(p + 2) * dim + i]));
    for (let l = 0; l < layers; l++) {
      const p = `${d}layers.${l}.`;
      const h = ln(x, t(`${p}self_attn_layer_norm.weight`), t(`${p}self_attn_layer_norm.bias`), 1e-5);
      const proj = (name: string, input: number[][], out: number) => linear(input, t(`${p}${name}.weight`), out, t(`${p}${name}.bias`));
      const a = attend(proj('self_attn.q_proj', h, dim), proj('self_attn.k_proj', h, dim), proj('self_attn.v_proj', h, dim));
      x = add(x, proj('self_attn.out_proj', a, dim));
      const h2 = ln(x, t(`${p}final_layer_norm.weight`), t(`${p}final_layer_norm.bias`), 1e-5);
      x = add(x, proj('fc2', proj('fc1', h2, c.ffn_dim).map((r) => r.map((v) => Math.max(v, 0))), dim));
    }
    x = ln(x, t(`${d}final_layer_norm.weight`), t(`${d}final_layer_norm.bias`), 1e-5);
    return Float64Array.from(linear(x, t(`${d}embed_tokens.weight`), vocab).flat());
  }

  // Llama / Qwen2 with Hugging Face's rotate_half RoPE.
  const theta = c.rope_theta;
  // Linear rope_scaling divides every position by the factor.
  const factor = (model.config.rope_scaling as { factor?: number } | undefined)?.factor ?? 1;
  const rope = (m: number[][], count: number) =>
    m.map((row, p) => {
      const out = row.slice();
      for (let h = 0; h < count; h++) {
        for (let i = 0; i < hd / 2; i++) {
          const angle = p / factor / theta ** ((2 * i) / hd);
          const a = row[h * hd + i];
          const b = row[h * hd + i + hd / 2];
          out[h * hd + i] = a * Math.cos(angle) - b * Math.sin(angle);
          out[h * hd + i + hd / 2] = b * Math.cos(angle) + a * Math.sin(angle);
        }
      }
      return out;
    });
  const bias = (name: string) => model.tensors.get(name)?.values;
  x = tokens.map((token) => Array.from(t('model.embed_tokens.weight').subarray(token * dim, (token + 1) * dim)));
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    const h = rms(x, t(`${p}input_layernorm.weight`), c.rms_norm_eps);
    const proj = (name: string, input: number[][], out: number) => linear(input, t(`${p}${name}.weight`), out, bias(`${p}${name}.bias`));
    const q = rope(proj('self_attn.q_proj', h, heads * hd), heads);
    const k = rope(proj('self_attn.k_proj', h, kvHeads * hd), kvHeads);
    const a = attend(q, k, proj('self_attn.v_proj', h, kvHeads * hd));
    x = add(x, proj('self_attn.o_proj', a, dim));
    const h2 = rms(x, t(`${p}post_attention_layernorm.weight`), c.rms_norm_eps);
    const gate = proj('mlp.gate_proj', h2, c.intermediate_size);
    const up = proj('mlp.up_proj', h2, c.intermediate_size);
    x = add(x, proj('mlp.down_proj', gate.map((r, i) => r.map((v, j) => (v / (1 + Math.exp(-v))) * up[i][j])), dim));
  }
  x = rms(x, t('model.norm.weight'), c.rms_norm_eps);
  const head = model.tensors.has('lm_head.weight') ? t('lm_head.weight') : t('model.embed_tokens.weight');
  return Float64Array.from(linear(x, head, vocab).flat());
}

/** Largest |a − b| / max(|b|, floor) over two logit arrays. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}
