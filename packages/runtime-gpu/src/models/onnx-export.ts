/**
 * Export of any loaded model to an ONNX decoder graph (opset 17, IR 8) that
 * onnxruntime-node runs: input `input_ids` int64 [batch, sequence], output
 * `logits` float32 [batch, sequence, vocab], no KV cache (the "no past" form
 * of optimum exports).
 *
 * Naming follows the TorchScript exporter regime, so the importer in
 * `onnx-model.ts` and other tools that map weights by node names find every
 * linear layer. A linear layer is a MatMul node named
 * `/model/layers.{i}/self_attn/q_proj/MatMul`, and its weight is an anonymous
 * initializer `onnx::MatMul_{n}` stored pre-transposed as [in, out]. Norms,
 * embeddings and biases are initializers named as in the Hugging Face
 * checkpoint. Interleaved-RoPE models (llama2.c) are exported in the
 * half-split layout with their q/k rows permuted, which leaves logits unchanged.
 */
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '@sculpt/core';
import { encodeModel, OnnxDataType, ONNX_IR_VERSION, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from '../onnx/schema.js';
import { BLOCK_LAYOUTS, type ModelConfig } from './config.js';
import { blockWeightsInHalfLayout } from './half-layout-weights.js';
import { hfBindings } from './hf-names.js';
import type { CausalLM, SaveOptions } from './model.js';
import { ropeInverseFrequencies } from './ops.js';
import { checkOverwrite } from './save-guard.js';
import type { BlockWeights, LinearWeights } from './weights.js';

/** Node-name scope of block i, per family, as the TorchScript exporter writes module paths. */
export function onnxBlockScope(config: ModelConfig, index: number): string {
  switch (config.family) {
    case 'llama':
      return `/model/layers.${index}`;
    case 'opt':
      return `/model/decoder/layers.${index}`;
    case 'gpt2':
      return `/transformer/h.${index}`;
  }
}

/** Prefix of Hugging Face parameter names inside exported graphs. */
export function onnxParameterPrefix(config: ModelConfig): string {
  switch (config.family) {
    case 'llama':
      return 'model.';
    case 'opt':
      return 'model.decoder.';
    case 'gpt2':
      return 'transformer.';
  }
}

/** Above this many weight bytes the export writes an external data file (protobuf messages are limited to 2 GB). */
export const EXTERNAL_DATA_THRESHOLD = 1.5 * 1024 ** 3;

class OnnxGraphWriter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;
  private matmulCounter = 0;

  floatTensor(name: string, dims: number[], values: Float32Array): string {
    const bytes = new Uint8Array(values.byteLength);
    new Float32Array(bytes.buffer).set(values);
    this.initializers.push({ name, dims, data_type: OnnxDataType.FLOAT, raw_data: bytes });
    return name;
  }

  int64Tensor(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map((value) => BigInt(value)));
    this.initializers.push({ name, dims: [values.length], data_type: OnnxDataType.INT64, raw_data: new Uint8Array(data.buffer) });
    return name;
  }

  scalar(name: string, value: number): string {
    this.initializers.push({ name, dims: [], data_type: OnnxDataType.FLOAT, raw_data: new Uint8Array(Float32Array.of(value).buffer) });
    return name;
  }

  /** Adds a node named `${scope}/${opType}` (numbered when repeated) and returns its single output. */
  node(scope: string, opType: string, inputs: string[], attributes: OnnxAttribute[] = [], outputCount = 1): string[] {
    const name = `${scope}/${opType}_${this.counter++}`;
    const outputs = Array.from({ length: outputCount }, (_, i) => `${name}_output_${i}`);
    this.nodes.push({ name, op_type: opType, input: inputs, output: outputs, attribute: attributes });
    return outputs;
  }

  op(scope: string, opType: string, inputs: string[], attributes: OnnxAttribute[] = []): string {
    return this.node(scope, opType, inputs, attributes)[0];
  }

  /** Adds a linear layer: MatMul on an [in, out] initializer, then Add of the bias initializer when present. */
  linear(scope: string, x: string, layer: LinearWeights, biasName: string): string {
    const weightName = `onnx::MatMul_${this.matmulCounter++}`;
    this.floatTensor(weightName, [layer.inFeatures, layer.outFeatures], transposeMatrix(layer.weight, layer.outFeatures, layer.inFeatures));
    const output = `${scope}/MatMul_output_0`;
    this.nodes.push({ name: `${scope}/MatMul`, op_type: 'MatMul', input: [x, weightName], output: [output] });
    if (layer.bias === undefined) return output;
    this.floatTensor(biasName, [layer.outFeatures], layer.bias);
    const added = `${scope}/Add_output_0`;
    this.nodes.push({ name: `${scope}/Add`, op_type: 'Add', input: [output, biasName], output: [added] });
    return added;
  }
}

function transposeMatrix(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

const ints = (name: string, values: number[]): OnnxAttribute => ({ name, type: 7, ints: values });
const int = (name: string, value: number): OnnxAttribute => ({ name, type: 2, i: value });
const float = (name: string, value: number): OnnxAttribute => ({ name, type: 1, f: value });

/** Builds the ONNX ModelProto of a model (every block is loaded). */
export async function buildOnnxModel(model: CausalLM): Promise<OnnxModel> {
  const { config, top } = model;
  const g = new OnnxGraphWriter();
  const prefix = onnxParameterPrefix(config);
  const names = new Map(hfBindings(config, { qkv: true, output: true, mlp: true, norms: config.family !== 'llama' }, prefix).map((b) => [JSON.stringify(b.target), b.name]));
  const paramName = (target: object) => names.get(JSON.stringify(target))!;

  // Shared constants.
  const one = g.int64Tensor('const_one', [1]);
  const zero = g.int64Tensor('const_zero', [0]);
  const axis1 = g.int64Tensor('const_axis_1', [1]);
  const shape = g.op('/model', 'Shape', ['input_ids']);
  const length = g.op('/model', 'Gather', [shape, one], [int('axis', 0)]);
  const lengthScalar = g.op('/model', 'Squeeze', [length]);
  const zeroScalar = g.op('/model', 'Squeeze', [zero]);
  const oneScalar = g.op('/model', 'Squeeze', [one]);
  const positions = g.op('/model', 'Range', [zeroScalar, lengthScalar, oneScalar]);

  // Embeddings.
  let hidden = g.op('/model/embed_tokens', 'Gather', [g.floatTensor(paramName({ kind: 'embedding' }), [config.vocabSize, config.dim], top.embedding), 'input_ids'], [int('axis', 0)]);
  if (top.positions !== undefined) {
    const rows = top.positions.length / config.dim;
    const table = g.floatTensor(paramName({ kind: 'positions' }), [rows, config.dim], top.positions);
    const offset = g.int64Tensor('const_position_offset', [config.positionOffset]);
    const indices = g.op('/model/embed_positions', 'Add', [positions, offset]);
    hidden = g.op('/model/embed_positions', 'Add', [hidden, g.op('/model/embed_positions', 'Gather', [table, indices], [int('axis', 0)])]);
  }

  // Causal mask [T, T]: 0 where a key is visible, −inf where it lies in the future or outside the sliding window.
  const rowIndex = g.op('/model/mask', 'Unsqueeze', [positions, axis1]);
  const colIndex = g.op('/model/mask', 'Unsqueeze', [positions, zero]);
  let futureMask = g.op('/model/mask', 'Greater', [colIndex, rowIndex]);
  if (config.slidingWindow !== undefined) {
    const window = g.int64Tensor('const_sliding_window', [config.slidingWindow]);
    const tooOld = g.op('/model/mask', 'Less', [g.op('/model/mask', 'Add', [colIndex, window]), g.op('/model/mask', 'Add', [rowIndex, one])]);
    futureMask = g.op('/model/mask', 'Or', [futureMask, tooOld]);
  }
  const mask = g.op('/model/mask', 'Where', [futureMask, g.scalar('const_neg_inf', -Infinity), g.scalar('const_zero_f', 0)]);

  // Rotary tables [T, headDim] in the half-split layout, sliced to the sequence length.
  let cos = '';
  let sin = '';
  if (config.family === 'llama') {
    const tables = ropeTables(config);
    const sliceTable = (name: string, values: Float32Array) =>
      g.op('/model/rotary_emb', 'Slice', [g.floatTensor(name, [config.maxSeqLen, config.headDim], values), zero, length, zero]);
    cos = sliceTable('rotary_cos', tables.cos);
    sin = sliceTable('rotary_sin', tables.sin);
  }

  for (let i = 0; i < config.nLayers; i++) {
    const block = blockWeightsInHalfLayout(config, await model.blockWeights(i));
    model.release(i);
    hidden = writeBlock(g, config, i, block, hidden, mask, cos, sin, paramName);
  }

  const finalScopes = { llama: '/model/norm', opt: '/model/decoder/final_layer_norm', gpt2: '/transformer/ln_f' };
  const finalScope = finalScopes[config.family];
  hidden = writeNorm(g, config, finalScope, hidden, top.finalNorm.weight, top.finalNorm.bias, paramName({ kind: 'finalNormWeight' }), paramName({ kind: 'finalNormBias' }));
  const logits = g.linear('/lm_head', hidden, { outFeatures: config.vocabSize, inFeatures: config.dim, weight: top.head, bias: top.headBias }, 'lm_head.bias');
  g.nodes.push({ name: '/lm_head/Identity', op_type: 'Identity', input: [logits], output: ['logits'] });

  return {
    ir_version: ONNX_IR_VERSION,
    producer_name: 'sculpt-runtime-gpu',
    opset_import: [{ domain: '', version: 17 }],
    // The graph always uses the half-split RoPE layout (see blockWeightsInHalfLayout), so the stored config records that layout.
    metadata_props: [{ key: 'sculpt.config', value: JSON.stringify({ ...config, ropeLayout: 'half' }) }],
    graph: {
      name: `${config.architecture} decoder`,
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: 'input_ids', type: { tensor_type: { elem_type: OnnxDataType.INT64, shape: { dim: [{ dim_param: 'batch_size' }, { dim_param: 'sequence_length' }] } } } }],
      output: [
        {
          name: 'logits',
          type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: [{ dim_param: 'batch_size' }, { dim_param: 'sequence_length' }, { dim_value: config.vocabSize }] } } },
        },
      ],
    },
  };
}

function ropeTables(config: ModelConfig): { cos: Float32Array; sin: Float32Array } {
  const inverse = ropeInverseFrequencies(config);
  const half = config.headDim / 2;
  const cos = new Float32Array(config.maxSeqLen * config.headDim);
  const sin = new Float32Array(config.maxSeqLen * config.headDim);
  for (let position = 0; position < config.maxSeqLen; position++) {
    for (let i = 0; i < half; i++) {
      const angle = position * inverse[i];
      const row = position * config.headDim;
      cos[row + i] = cos[row + i + half] = Math.cos(angle);
      sin[row + i] = sin[row + i + half] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

function writeNorm(g: OnnxGraphWriter, config: ModelConfig, scope: string, x: string, weight: Float32Array, bias: Float32Array | undefined, weightName: string, biasName: string): string {
  const w = g.floatTensor(weightName, [config.dim], weight);
  if (config.family !== 'llama') {
    const b = g.floatTensor(biasName, [config.dim], bias ?? new Float32Array(config.dim));
    return g.op(scope, 'LayerNormalization', [x, w, b], [int('axis', -1), float('epsilon', config.normEps)]);
  }
  const exponent = g.scalar(`${scope}/const_two`, 2);
  const eps = g.scalar(`${scope}/const_eps`, config.normEps);
  const meanSquare = g.op(scope, 'ReduceMean', [g.op(scope, 'Pow', [x, exponent])], [ints('axes', [-1]), int('keepdims', 1)]);
  const inverseRms = g.op(scope, 'Reciprocal', [g.op(scope, 'Sqrt', [g.op(scope, 'Add', [meanSquare, eps])])]);
  return g.op(scope, 'Mul', [g.op(scope, 'Mul', [x, inverseRms]), w]);
}

type ParamName = (target: object) => string;

function writeBlock(g: OnnxGraphWriter, config: ModelConfig, index: number, block: BlockWeights, x: string, mask: string, cos: string, sin: string, paramName: ParamName): string {
  const layout = BLOCK_LAYOUTS[config.family];
  const scope = onnxBlockScope(config, index);
  const linear = (local: string, input: string) =>
    g.linear(`${scope}/${local.replace('.', '/')}`, input, block.linears.get(local)!, paramName({ kind: 'linearBias', block: index, local }));
  const norm = (local: string, input: string) => {
    const weights = block.norms.get(local)!;
    return writeNorm(g, config, `${scope}/${local}`, input, weights.weight, weights.bias, paramName({ kind: 'normWeight', block: index, local }), paramName({ kind: 'normBias', block: index, local }));
  };

  const attentionInput = norm(layout.attentionNorm, x);
  let q: string;
  let k: string;
  let v: string;
  if (layout.fusedQkv !== undefined) {
    const fused = linear(layout.fusedQkv, attentionInput);
    const qWidth = config.nHeads * config.headDim;
    const kvWidth = config.nKvHeads * config.headDim;
    const minusOne = g.int64Tensor(`${scope}/const_last_axis`, [-1]);
    const slice = (start: number, end: number) =>
      g.op(`${scope}/attn`, 'Slice', [fused, g.int64Tensor(`${scope}/const_start_${start}`, [start]), g.int64Tensor(`${scope}/const_end_${end}`, [end]), minusOne]);
    q = slice(0, qWidth);
    k = slice(qWidth, qWidth + kvWidth);
    v = slice(qWidth + kvWidth, qWidth + 2 * kvWidth);
  } else {
    q = linear(layout.query!, attentionInput);
    k = linear(layout.key!, attentionInput);
    v = linear(layout.value!, attentionInput);
  }

  const attended = writeAttention(g, config, `${scope}/self_attn`, q, k, v, mask, cos, sin);
  const afterAttention = g.op(scope, 'Add', [x, linear(layout.output, attended)]);

  const mlpInput = norm(layout.mlpNorm, afterAttention);
  let mlpOutput: string;
  if (config.family === 'llama') {
    const gate = linear(layout.gate!, mlpInput);
    const activated = writeActivation(g, config, `${scope}/mlp/act_fn`, gate);
    mlpOutput = linear(layout.down!, g.op(`${scope}/mlp`, 'Mul', [activated, linear(layout.up!, mlpInput)]));
  } else {
    mlpOutput = linear(layout.fc2!, writeActivation(g, config, `${scope}/activation_fn`, linear(layout.fc1!, mlpInput)));
  }
  return g.op(scope, 'Add', [afterAttention, mlpOutput]);
}

function writeActivation(g: OnnxGraphWriter, config: ModelConfig, scope: string, x: string): string {
  switch (config.activation) {
    case 'silu':
      return g.op(scope, 'Mul', [x, g.op(scope, 'Sigmoid', [x])]);
    case 'relu':
      return g.op(scope, 'Relu', [x]);
    case 'gelu': {
      const erf = g.op(scope, 'Erf', [g.op(scope, 'Mul', [x, g.scalar(`${scope}/const_inv_sqrt2`, Math.SQRT1_2)])]);
      const onePlus = g.op(scope, 'Add', [erf, g.scalar(`${scope}/const_one`, 1)]);
      return g.op(scope, 'Mul', [g.op(scope, 'Mul', [x, onePlus]), g.scalar(`${scope}/const_half`, 0.5)]);
    }
    case 'gelu_tanh': {
      const cube = g.op(scope, 'Mul', [g.op(scope, 'Mul', [x, x]), x]);
      const inner = g.op(scope, 'Add', [x, g.op(scope, 'Mul', [cube, g.scalar(`${scope}/const_c`, 0.044715)])]);
      const tanh = g.op(scope, 'Tanh', [g.op(scope, 'Mul', [inner, g.scalar(`${scope}/const_sqrt_2_pi`, Math.sqrt(2 / Math.PI))])]);
      const onePlus = g.op(scope, 'Add', [tanh, g.scalar(`${scope}/const_one`, 1)]);
      return g.op(scope, 'Mul', [g.op(scope, 'Mul', [x, onePlus]), g.scalar(`${scope}/const_half`, 0.5)]);
    }
  }
}

function writeAttention(g: OnnxGraphWriter, config: ModelConfig, scope: string, q: string, k: string, v: string, mask: string, cos: string, sin: string): string {
  const { nHeads, nKvHeads, headDim } = config;
  const heads = (x: string, count: number) =>
    g.op(scope, 'Transpose', [g.op(scope, 'Reshape', [x, g.int64Tensor(`${scope}/const_shape_${count}_${g.nodes.length}`, [0, 0, count, headDim])])], [ints('perm', [0, 2, 1, 3])]);
  let qh = heads(q, nHeads);
  let kh = heads(k, nKvHeads);
  const vhKv = heads(v, nKvHeads);

  if (config.family === 'llama') {
    const half = headDim / 2;
    const axis = g.int64Tensor(`${scope}/const_axis_3`, [3]);
    const lower = g.int64Tensor(`${scope}/const_0`, [0]);
    const middle = g.int64Tensor(`${scope}/const_half`, [half]);
    const upper = g.int64Tensor(`${scope}/const_head_dim`, [headDim]);
    const rotate = (x: string) => {
      const x1 = g.op(scope, 'Slice', [x, lower, middle, axis]);
      const x2 = g.op(scope, 'Slice', [x, middle, upper, axis]);
      const rotated = g.op(scope, 'Concat', [g.op(scope, 'Neg', [x2]), x1], [int('axis', -1)]);
      return g.op(scope, 'Add', [g.op(scope, 'Mul', [x, cos]), g.op(scope, 'Mul', [rotated, sin])]);
    };
    qh = rotate(qh);
    kh = rotate(kh);
  }

  // Grouped-query attention: repeat each KV head for its group of query heads.
  let vh = vhKv;
  if (nKvHeads !== nHeads) {
    const group = nHeads / nKvHeads;
    const indices = g.int64Tensor(`${scope}/const_kv_heads`, Array.from({ length: nHeads }, (_, h) => Math.floor(h / group)));
    kh = g.op(scope, 'Gather', [kh, indices], [int('axis', 1)]);
    vh = g.op(scope, 'Gather', [vhKv, indices], [int('axis', 1)]);
  }

  const scale = g.scalar(`${scope}/const_scale`, 1 / Math.sqrt(headDim));
  const keysT = g.op(scope, 'Transpose', [kh], [ints('perm', [0, 1, 3, 2])]);
  const scores = g.op(scope, 'Add', [g.op(scope, 'Mul', [g.op(scope, 'MatMul', [qh, keysT]), scale]), mask]);
  const probabilities = g.op(scope, 'Softmax', [scores], [int('axis', -1)]);
  const context = g.op(scope, 'Transpose', [g.op(scope, 'MatMul', [probabilities, vh])], [ints('perm', [0, 2, 1, 3])]);
  return g.op(scope, 'Reshape', [context, g.int64Tensor(`${scope}/const_merge_${g.nodes.length}`, [0, 0, nHeads * headDim])]);
}

/**
 * Writes a model as ONNX, atomically. Weights above EXTERNAL_DATA_THRESHOLD
 * (or all of them with `externalData`) go to `<name>.onnx_data` next to it.
 */
export async function exportOnnx(model: CausalLM, outPath: string, options: SaveOptions & { externalData?: boolean } = {}): Promise<void> {
  await checkOverwrite(model, outPath, options);
  const proto = await buildOnnxModel(model);
  const initializers = proto.graph!.initializer!;
  const weightBytes = initializers.reduce((total, tensor) => total + (tensor.raw_data?.byteLength ?? 0), 0);

  if (options.externalData === true || weightBytes > EXTERNAL_DATA_THRESHOLD) {
    const location = `${basename(outPath)}_data`;
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const tensor of initializers) {
      const bytes = tensor.raw_data;
      if (bytes === undefined || bytes.byteLength < 1024) continue;
      // Align each tensor to 4096 bytes, as ONNX's own saver does for mmap-friendly files.
      const padding = (4096 - (offset % 4096)) % 4096;
      if (padding > 0) chunks.push(new Uint8Array(padding));
      offset += padding;
      chunks.push(bytes);
      tensor.external_data = [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(bytes.byteLength) },
      ];
      tensor.data_location = 1;
      tensor.raw_data = new Uint8Array(0);
      offset += bytes.byteLength;
    }
    await writeFileAtomic(join(dirname(outPath), location), chunks);
  }
  await writeFileAtomic(outPath, encodeModel(proto));
}
