/**
 * Parsing of a Hugging Face `config.json` into the normalized ModelConfig, and
 * the reverse for models converted to Hugging Face format.
 */
import { InputError } from '@sculpt/core';
import type { Activation, ModelConfig, RopeScaling } from './config.js';

/** Architectures (the `architectures[0]` of config.json) this loader accepts. */
export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM', 'OPTForCausalLM', 'GPT2LMHeadModel'] as const;

export type HfArchitecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/** Optional biases the checkpoint stores, as the config declares them. */
export interface HfBiases {
  /** q, k and v projections. */
  qkv: boolean;
  /** Attention output projection. */
  output: boolean;
  mlp: boolean;
  norms: boolean;
}

export interface ParsedHfConfig {
  architecture: HfArchitecture;
  config: ModelConfig;
  biases: HfBiases;
}

type Json = Record<string, unknown>;

class ConfigReader {
  constructor(
    private readonly json: Json,
    private readonly file: string,
  ) {}

  integer(key: string, fallback?: number): number {
    const value = this.json[key] ?? fallback;
    if (value === undefined || value === null) {
      throw new InputError(`config.json is missing the required field "${key}"`, this.file);
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new InputError(`config.json field "${key}" is ${JSON.stringify(value)}; expected a positive integer`, this.file);
    }
    return value;
  }

  number(key: string, fallback: number): number {
    const value = this.json[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new InputError(`config.json field "${key}" is ${JSON.stringify(value)}; expected a positive number`, this.file);
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.json[key] ?? fallback;
    if (typeof value !== 'boolean') throw new InputError(`config.json field "${key}" is ${JSON.stringify(value)}; expected true or false`, this.file);
    return value;
  }

  string(key: string, fallback: string): string {
    const value = this.json[key] ?? fallback;
    if (typeof value !== 'string') throw new InputError(`config.json field "${key}" is ${JSON.stringify(value)}; expected a string`, this.file);
    return value;
  }

  raw(key: string): unknown {
    return this.json[key];
  }
}

/** Parses config.json text; rejects unknown architectures with the supported list. */
export function parseHfConfig(text: string, file: string): ParsedHfConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`config.json is not valid JSON: ${(error as Error).message}`, file);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InputError('config.json must contain a JSON object', file);

  const architectures = (json as Json).architectures;
  const architecture = Array.isArray(architectures) ? architectures[0] : undefined;
  if (typeof architecture !== 'string') {
    throw new InputError(`config.json has no "architectures" list; expected one of ${SUPPORTED_ARCHITECTURES.join(', ')}`, file);
  }
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new InputError(`unsupported architecture "${architecture}"; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`, file);
  }

  const reader = new ConfigReader(json as Json, file);
  switch (architecture as HfArchitecture) {
    case 'LlamaForCausalLM':
    case 'MistralForCausalLM':
    case 'Qwen2ForCausalLM':
      return parseLlamaFamily(architecture as HfArchitecture, reader, file);
    case 'OPTForCausalLM':
      return parseOpt(reader, file);
    case 'GPT2LMHeadModel':
      return parseGpt2(reader, file);
  }
}

function activationOf(name: string, file: string): Activation {
  const known: Record<string, Activation> = { silu: 'silu', swish: 'silu', relu: 'relu', gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh' };
  const activation = known[name];
  if (activation === undefined) throw new InputError(`unsupported activation "${name}"; supported: ${Object.keys(known).join(', ')}`, file);
  return activation;
}

function parseLlamaFamily(architecture: HfArchitecture, reader: ConfigReader, file: string): ParsedHfConfig {
  const dim = reader.integer('hidden_size');
  const nHeads = reader.integer('num_attention_heads');
  const nKvHeads = reader.integer('num_key_value_heads', nHeads);
  const headDim = reader.integer('head_dim', Math.floor(dim / nHeads));
  if (nHeads % nKvHeads !== 0) throw new InputError(`num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${nKvHeads}`, file);
  if (headDim % 2 !== 0) throw new InputError(`head_dim ${headDim} must be even for rotary embeddings`, file);

  const isQwen = architecture === 'Qwen2ForCausalLM';
  const attentionBias = reader.boolean('attention_bias', false);
  const useSlidingWindow = isQwen ? reader.boolean('use_sliding_window', false) : architecture === 'MistralForCausalLM';
  const window = reader.raw('sliding_window');

  const config: ModelConfig = {
    family: 'llama',
    architecture,
    dim,
    hiddenDim: reader.integer('intermediate_size'),
    nLayers: reader.integer('num_hidden_layers'),
    nHeads,
    nKvHeads,
    headDim,
    vocabSize: reader.integer('vocab_size'),
    maxSeqLen: reader.integer('max_position_embeddings', 2048),
    normEps: reader.number('rms_norm_eps', 1e-6),
    activation: activationOf(reader.string('hidden_act', 'silu'), file),
    tiedEmbeddings: reader.boolean('tie_word_embeddings', false),
    ropeTheta: reader.number('rope_theta', 10000),
    ropeLayout: 'half',
    ropeScaling: parseRopeScaling(reader.raw('rope_scaling'), file),
    slidingWindow: useSlidingWindow && typeof window === 'number' ? window : undefined,
    positionOffset: 0,
  };
  const biases: HfBiases = {
    qkv: isQwen || attentionBias,
    output: attentionBias,
    mlp: reader.boolean('mlp_bias', false),
    norms: false,
  };
  return { architecture, config, biases };
}

function parseRopeScaling(value: unknown, file: string): RopeScaling | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InputError(`rope_scaling is ${JSON.stringify(value)}; expected an object or null`, file);
  const scaling = value as Json;
  const type = scaling.rope_type ?? scaling.type;
  const factor = scaling.factor;
  if (type === 'default') return undefined;
  if (type !== 'linear' && type !== 'llama3') {
    throw new InputError(`rope_scaling type ${JSON.stringify(type)} is not supported; supported: linear, llama3`, file);
  }
  if (typeof factor !== 'number' || !(factor > 0)) throw new InputError(`rope_scaling.factor is ${JSON.stringify(factor)}; expected a positive number`, file);
  return {
    type,
    factor,
    lowFreqFactor: typeof scaling.low_freq_factor === 'number' ? scaling.low_freq_factor : undefined,
    highFreqFactor: typeof scaling.high_freq_factor === 'number' ? scaling.high_freq_factor : undefined,
    originalMaxPositionEmbeddings: typeof scaling.original_max_position_embeddings === 'number' ? scaling.original_max_position_embeddings : undefined,
  };
}

function parseOpt(reader: ConfigReader, file: string): ParsedHfConfig {
  const dim = reader.integer('hidden_size');
  const nHeads = reader.integer('num_attention_heads');
  if (dim % nHeads !== 0) throw new InputError(`hidden_size ${dim} is not a multiple of num_attention_heads ${nHeads}`, file);
  if (!reader.boolean('do_layer_norm_before', true)) {
    throw new InputError('OPT with do_layer_norm_before = false (post-norm, as opt-350m) is not supported', file);
  }
  const projection = reader.raw('word_embed_proj_dim');
  if (projection !== undefined && projection !== null && projection !== dim) {
    throw new InputError(`OPT with word_embed_proj_dim ${JSON.stringify(projection)} ≠ hidden_size ${dim} (project_in/project_out) is not supported`, file);
  }
  if (!reader.boolean('layer_norm_elementwise_affine', true)) {
    throw new InputError('OPT with layer_norm_elementwise_affine = false is not supported', file);
  }
  const enableBias = reader.boolean('enable_bias', true);
  const config: ModelConfig = {
    family: 'opt',
    architecture: 'OPTForCausalLM',
    dim,
    hiddenDim: reader.integer('ffn_dim'),
    nLayers: reader.integer('num_hidden_layers'),
    nHeads,
    nKvHeads: nHeads,
    headDim: dim / nHeads,
    vocabSize: reader.integer('vocab_size'),
    maxSeqLen: reader.integer('max_position_embeddings'),
    normEps: 1e-5,
    activation: activationOf(reader.string('activation_function', 'relu'), file),
    tiedEmbeddings: reader.boolean('tie_word_embeddings', true),
    ropeTheta: 10000,
    ropeLayout: 'half',
    positionOffset: 2,
  };
  return { architecture: 'OPTForCausalLM', config, biases: { qkv: enableBias, output: enableBias, mlp: enableBias, norms: true } };
}

function parseGpt2(reader: ConfigReader, file: string): ParsedHfConfig {
  const dim = reader.integer('n_embd');
  const nHeads = reader.integer('n_head');
  if (dim % nHeads !== 0) throw new InputError(`n_embd ${dim} is not a multiple of n_head ${nHeads}`, file);
  const inner = reader.raw('n_inner');
  const config: ModelConfig = {
    family: 'gpt2',
    architecture: 'GPT2LMHeadModel',
    dim,
    hiddenDim: inner === null || inner === undefined ? 4 * dim : reader.integer('n_inner'),
    nLayers: reader.integer('n_layer'),
    nHeads,
    nKvHeads: nHeads,
    headDim: dim / nHeads,
    vocabSize: reader.integer('vocab_size'),
    maxSeqLen: reader.integer('n_positions'),
    normEps: reader.number('layer_norm_epsilon', 1e-5),
    activation: activationOf(reader.string('activation_function', 'gelu_new'), file),
    tiedEmbeddings: reader.boolean('tie_word_embeddings', true),
    ropeTheta: 10000,
    ropeLayout: 'half',
    positionOffset: 0,
  };
  if (reader.raw('scale_attn_weights') === false) throw new InputError('GPT-2 with scale_attn_weights = false is not supported', file);
  return { architecture: 'GPT2LMHeadModel', config, biases: { qkv: true, output: true, mlp: true, norms: true } };
}

/** Builds a config.json object for a model converted to Hugging Face format. */
export function toHfConfig(config: ModelConfig, extra: { bosTokenId?: number; eosTokenId?: number } = {}): Json {
  const common = { torch_dtype: 'float32', vocab_size: config.vocabSize, bos_token_id: extra.bosTokenId, eos_token_id: extra.eosTokenId };
  switch (config.family) {
    case 'llama':
      return {
        architectures: ['LlamaForCausalLM'],
        model_type: 'llama',
        hidden_size: config.dim,
        intermediate_size: config.hiddenDim,
        num_hidden_layers: config.nLayers,
        num_attention_heads: config.nHeads,
        num_key_value_heads: config.nKvHeads,
        head_dim: config.headDim,
        max_position_embeddings: config.maxSeqLen,
        rms_norm_eps: config.normEps,
        rope_theta: config.ropeTheta,
        rope_scaling: config.ropeScaling === undefined ? null : toHfRopeScaling(config.ropeScaling),
        hidden_act: 'silu',
        tie_word_embeddings: config.tiedEmbeddings,
        attention_bias: false,
        mlp_bias: false,
        ...common,
      };
    case 'opt':
      return {
        architectures: ['OPTForCausalLM'],
        model_type: 'opt',
        hidden_size: config.dim,
        ffn_dim: config.hiddenDim,
        num_hidden_layers: config.nLayers,
        num_attention_heads: config.nHeads,
        max_position_embeddings: config.maxSeqLen,
        do_layer_norm_before: true,
        word_embed_proj_dim: config.dim,
        activation_function: config.activation === 'gelu_tanh' ? 'gelu_new' : config.activation,
        enable_bias: true,
        tie_word_embeddings: config.tiedEmbeddings,
        ...common,
      };
    case 'gpt2':
      return {
        architectures: ['GPT2LMHeadModel'],
        model_type: 'gpt2',
        n_embd: config.dim,
        n_inner: config.hiddenDim,
        n_layer: config.nLayers,
        n_head: config.nHeads,
        n_positions: config.maxSeqLen,
        layer_norm_epsilon: config.normEps,
        activation_function: config.activation === 'gelu_tanh' ? 'gelu_new' : config.activation,
        tie_word_embeddings: config.tiedEmbeddings,
        ...common,
      };
  }
}

function toHfRopeScaling(scaling: RopeScaling): Json {
  return {
    rope_type: scaling.type,
    factor: scaling.factor,
    low_freq_factor: scaling.lowFreqFactor,
    high_freq_factor: scaling.highFreqFactor,
    original_max_position_embeddings: scaling.originalMaxPositionEmbeddings,
  };
}
