/**
 * Loading ONNX decoder exports (transformers.js / optimum layouts, and the
 * graphs `onnx-export.ts` writes) by mapping their weights onto the built-in
 * architectures.
 *
 * Design choice: the weights are mapped onto the runtime's own block
 * implementation rather than running the graph in onnxruntime with linear
 * inputs added as graph outputs. The layer-by-layer loop must feed pruned
 * weights of block i back before computing block i+1's inputs. With the graph
 * in onnxruntime that means rewriting initializers and rebuilding a session
 * per block, because a session cannot run one block in isolation. onnxruntime
 * stays the oracle: `OnnxLogitsSession` runs the whole (pruned) graph for
 * logits and perplexity.
 *
 * Finding the prunable linear weights uses the consuming node, never the
 * initializer name: MatMul or Gemm nodes whose name (TorchScript and
 * onnxruntime-genai regimes, e.g. `/model/layers.3/self_attn/q_proj/MatMul`)
 * or metadata (Dynamo regime, `metadata_props` values holding the module
 * path) names a block's linear module. The weight is input 1: an initializer
 * stored [in, out] for MatMul or Gemm without transB, [out, in] for Gemm with
 * transB = 1 or a Transpose feeding the MatMul. Norms and embeddings are found
 * by their Hugging Face parameter names. The model config comes from the
 * graph's `sculpt.config` metadata or a config.json beside the file or in its
 * parent folder (transformers.js puts model.onnx under `onnx/`).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { InputError, writeFileAtomic } from '@sculpt/core';
import * as ort from 'onnxruntime-node';
import { decodeModel, encodeModel, int64ToNumber, OnnxDataType, type OnnxModel, type OnnxNode, type OnnxTensor } from '../onnx/schema.js';
import { BLOCK_LAYOUTS, linearShapes, type ModelConfig } from './config.js';
import { parseHfConfig, type HfBiases } from './hf-config.js';
import { hfBindings, transpose, type TensorBinding } from './hf-names.js';
import { bfloat16BitsToNumber, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits } from './half.js';
import { CausalLM, warnNonFinite, type ModelSource, type SaveOptions } from './model.js';
import { onnxParameterPrefix } from './onnx-export.js';
import { checkOverwrite } from './save-guard.js';
import type { BlockWeights, TopWeights } from './weights.js';

/** A linear layer found in the graph. */
interface LinearBinding {
  block: number;
  local: string;
  weight: string;
  /** Layout of the weight initializer. */
  layout: 'in_out' | 'out_in';
  bias?: string;
}

/** Reads and writes initializer values, inline or in external data files. */
class InitializerStore {
  readonly tensors = new Map<string, OnnxTensor>();

  constructor(
    readonly model: OnnxModel,
    readonly file: string,
  ) {
    for (const tensor of model.graph?.initializer ?? []) if (tensor.name) this.tensors.set(tensor.name, tensor);
    for (const node of model.graph?.node ?? []) {
      if (node.op_type !== 'Constant') continue;
      const value = node.attribute?.find((attribute) => attribute.name === 'value')?.t;
      if (value !== undefined && node.output?.[0] !== undefined) this.tensors.set(node.output[0], { ...value, name: node.output[0] });
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  dims(name: string): number[] {
    return (this.tensors.get(name)!.dims ?? []).map((dim) => int64ToNumber(dim));
  }

  /** Reads a float initializer (FLOAT, FLOAT16, BFLOAT16, DOUBLE) as float32. */
  async read(name: string): Promise<Float32Array> {
    const tensor = this.tensors.get(name);
    if (tensor === undefined) throw new InputError(`initializer "${name}" is missing`, this.file);
    const count = this.dims(name).reduce((product, dim) => product * dim, 1);
    const size = elementSize(tensor, this.file);
    const raw = tensor.data_location === 1 ? await this.readExternal(tensor) : tensor.raw_data;

    if (raw !== undefined && raw.byteLength > 0) {
      if (raw.byteLength !== count * size) {
        throw new InputError(`initializer "${name}" has ${raw.byteLength} bytes of data but dims ${JSON.stringify(this.dims(name))} need ${count * size}`, this.file);
      }
      // raw_data is a view into the file buffer at any byte offset, so read it through a DataView.
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        switch (tensor.data_type) {
          case OnnxDataType.FLOAT:
            out[i] = view.getFloat32(i * 4, true);
            break;
          case OnnxDataType.DOUBLE:
            out[i] = view.getFloat64(i * 8, true);
            break;
          case OnnxDataType.FLOAT16:
            out[i] = float16BitsToNumber(view.getUint16(i * 2, true));
            break;
          default:
            out[i] = bfloat16BitsToNumber(view.getUint16(i * 2, true));
        }
      }
      return out;
    }

    const typed =
      tensor.data_type === OnnxDataType.FLOAT
        ? tensor.float_data
        : tensor.data_type === OnnxDataType.DOUBLE
          ? tensor.double_data
          : tensor.int32_data?.map((bits) => (tensor.data_type === OnnxDataType.FLOAT16 ? float16BitsToNumber(bits) : bfloat16BitsToNumber(bits)));
    if (typed === undefined || typed.length !== count) {
      throw new InputError(`initializer "${name}" has ${typed?.length ?? 0} values but dims ${JSON.stringify(this.dims(name))} need ${count}`, this.file);
    }
    return Float32Array.from(typed);
  }

  private externalLocation(tensor: OnnxTensor): { path: string; offset: number; length: number | undefined } {
    const entries = new Map((tensor.external_data ?? []).map((entry) => [entry.key, entry.value]));
    const location = entries.get('location');
    if (location === undefined || location === '' || isAbsolute(location) || normalize(location).startsWith('..')) {
      throw new InputError(`initializer "${tensor.name}" has external data location ${JSON.stringify(location)}; expected a file name relative to the model`, this.file);
    }
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : undefined;
    if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
      throw new InputError(`initializer "${tensor.name}" has invalid external data offset or length`, this.file);
    }
    return { path: join(dirname(this.file), location), offset, length };
  }

  private async readExternal(tensor: OnnxTensor): Promise<Uint8Array> {
    const { path, offset, length } = this.externalLocation(tensor);
    const expected = (tensor.dims ?? []).reduce<number>((product, dim) => product * int64ToNumber(dim), 1) * elementSize(tensor, this.file);
    const byteLength = length ?? expected;
    const size = await stat(path).then(
      (stats) => stats.size,
      () => {
        throw new InputError(`external data file ${path} of initializer "${tensor.name}" is missing`, this.file);
      },
    );
    if (offset + byteLength > size) {
      throw new InputError(`initializer "${tensor.name}" reads bytes ${offset}..${offset + byteLength} of ${path}, which has only ${size}; the data file is truncated`, this.file);
    }
    const handle = await open(path, 'r');
    try {
      const bytes = new Uint8Array(byteLength);
      await handle.read(bytes, 0, byteLength, offset);
      return bytes;
    } finally {
      await handle.close();
    }
  }

  /** Encodes float32 values into an initializer's dtype; returns the bytes and where they go. */
  encode(name: string, values: Float32Array): { bytes: Uint8Array; external?: { location: string; offset: number } } {
    const tensor = this.tensors.get(name)!;
    const size = elementSize(tensor, this.file);
    const bytes = new Uint8Array(values.length * size);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) {
      if (tensor.data_type === OnnxDataType.FLOAT) view.setFloat32(i * 4, values[i], true);
      else if (tensor.data_type === OnnxDataType.DOUBLE) view.setFloat64(i * 8, values[i], true);
      else if (tensor.data_type === OnnxDataType.FLOAT16) view.setUint16(i * 2, numberToFloat16Bits(values[i]), true);
      else view.setUint16(i * 2, numberToBfloat16Bits(values[i]), true);
    }
    if (tensor.data_location !== 1) return { bytes };
    const entries = new Map((tensor.external_data ?? []).map((entry) => [entry.key, entry.value]));
    return { bytes, external: { location: entries.get('location')!, offset: Number(entries.get('offset') ?? 0) } };
  }
}

function elementSize(tensor: OnnxTensor, file: string): number {
  switch (tensor.data_type) {
    case OnnxDataType.FLOAT:
      return 4;
    case OnnxDataType.DOUBLE:
      return 8;
    case OnnxDataType.FLOAT16:
    case OnnxDataType.BFLOAT16:
      return 2;
    default:
      throw new InputError(`initializer "${tensor.name}" has data_type ${tensor.data_type}; prunable weights must be FLOAT, FLOAT16, BFLOAT16 or DOUBLE (prune before quantizing)`, file);
  }
}

/** Module path of a node from its name or metadata, e.g. {block: 3, local: "self_attn/q_proj"}. */
function modulePath(node: OnnxNode): { block: number; local: string } | 'head' | undefined {
  const candidates = [node.name ?? '', ...(node.metadata_props ?? []).map((entry) => entry.value ?? '')];
  for (const candidate of candidates) {
    const normalized = candidate.replace(/\./g, '/').replace(/\/(\d+)\//g, '.$1/');
    const match = /(?:layers|h)\.(\d+)\/((?:self_attn|attn|mlp)\/[A-Za-z_]+|fc1|fc2)(?:\/|$)/.exec(normalized);
    if (match !== null) return { block: Number(match[1]), local: match[2] };
    if (/(?:^|\/)lm_head(?:\/|$)/.test(normalized)) return 'head';
  }
  return undefined;
}

/** Maps a module path of any regime to the family's Hugging Face module name. */
function canonicalLinear(config: ModelConfig, local: string): string | undefined {
  const dotted = local.replace('/', '.');
  const layout = BLOCK_LAYOUTS[config.family];
  if (layout.linears.includes(dotted)) return dotted;
  // onnxruntime-genai writes `attn` where Hugging Face Llama writes `self_attn`.
  const renamed = dotted.replace(/^attn\./, 'self_attn.');
  return layout.linears.includes(renamed) ? renamed : undefined;
}

function findLinears(model: OnnxModel, store: InitializerStore, config: ModelConfig, file: string): { linears: LinearBinding[]; head?: LinearBinding } {
  const nodes = model.graph?.node ?? [];
  const producers = new Map<string, OnnxNode>();
  const consumers = new Map<string, OnnxNode[]>();
  for (const node of nodes) {
    for (const output of node.output ?? []) producers.set(output, node);
    for (const input of node.input ?? []) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }

  const linears: LinearBinding[] = [];
  let head: LinearBinding | undefined;
  for (const node of nodes) {
    if (node.op_type !== 'MatMul' && node.op_type !== 'Gemm') continue;
    const path = modulePath(node);
    if (path === undefined) continue;
    const local = path === 'head' ? 'lm_head' : canonicalLinear(config, path.local);
    if (local === undefined) continue;

    let weight = node.input?.[1] ?? '';
    let layout: LinearBinding['layout'] = 'in_out';
    if (node.op_type === 'Gemm' && int64ToNumber(node.attribute?.find((attribute) => attribute.name === 'transB')?.i) === 1) layout = 'out_in';
    const producer = producers.get(weight);
    if (!store.has(weight) && producer?.op_type === 'Transpose' && store.has(producer.input?.[0] ?? '')) {
      weight = producer.input![0];
      layout = layout === 'in_out' ? 'out_in' : 'in_out';
    }
    if (!store.has(weight)) continue;

    let bias: string | undefined = node.op_type === 'Gemm' ? node.input?.[2] : undefined;
    if (bias === undefined || bias === '') {
      const add = (consumers.get(node.output?.[0] ?? '') ?? []).find((consumer) => consumer.op_type === 'Add');
      bias = add?.input?.find((input) => input !== node.output?.[0] && store.has(input) && store.dims(input).length === 1);
    }
    if (bias !== undefined && !store.has(bias)) bias = undefined;

    const binding: LinearBinding = { block: path === 'head' ? -1 : path.block, local, weight, layout, bias };
    if (path === 'head') head = binding;
    else linears.push(binding);
  }

  // Every linear layer of every block must be found.
  const shapes = linearShapes(config);
  for (let i = 0; i < config.nLayers; i++) {
    for (const [local, [out, inFeatures]] of shapes) {
      const binding = linears.find((candidate) => candidate.block === i && candidate.local === local);
      if (binding === undefined) {
        throw new InputError(
          `no MatMul/Gemm node found for block ${i} ${local}; node names or metadata must carry the module path (e.g. /model/layers.${i}/self_attn/q_proj/MatMul)`,
          file,
        );
      }
      const dims = store.dims(binding.weight);
      const expected = binding.layout === 'in_out' ? [inFeatures, out] : [out, inFeatures];
      if (dims.length !== 2 || dims[0] !== expected[0] || dims[1] !== expected[1]) {
        throw new InputError(`weight "${binding.weight}" of block ${i} ${local} has dims ${JSON.stringify(dims)}; the config implies ${JSON.stringify(expected)}`, file);
      }
    }
  }
  return { linears, head };
}

class OnnxSource implements ModelSource {
  readonly format = 'onnx' as const;

  constructor(
    readonly path: string,
    readonly store: InitializerStore,
    private readonly linears: LinearBinding[],
    private readonly named: TensorBinding[],
    private readonly config: ModelConfig,
  ) {}

  async loadBlock(index: number): Promise<BlockWeights> {
    const block: BlockWeights = { linears: new Map(), norms: new Map() };
    const shapes = linearShapes(this.config);
    for (const binding of this.linears.filter((candidate) => candidate.block === index)) {
      const [outFeatures, inFeatures] = shapes.get(binding.local)!;
      const raw = await this.store.read(binding.weight);
      const weight = binding.layout === 'in_out' ? transpose(raw, inFeatures, outFeatures) : raw;
      block.linears.set(binding.local, { outFeatures, inFeatures, weight, bias: binding.bias === undefined ? undefined : await this.store.read(binding.bias) });
    }
    for (const binding of this.named) {
      const target = binding.target;
      if (!('block' in target) || target.block !== index || (target.kind !== 'normWeight' && target.kind !== 'normBias')) continue;
      const norm = block.norms.get(target.local) ?? { weight: new Float32Array(0) };
      const values = await this.store.read(binding.name);
      if (target.kind === 'normWeight') norm.weight = values;
      else norm.bias = values;
      block.norms.set(target.local, norm);
    }
    return block;
  }

  /** Rewrites the linear-layer initializers in place (same names, dims, dtype and layout) and writes the model. */
  async save(model: CausalLM, outPath: string, options: SaveOptions): Promise<void> {
    await checkOverwrite(model, outPath, options);
    const externalFiles = new Map<string, Uint8Array>();
    const shapes = linearShapes(this.config);

    for (let i = 0; i < this.config.nLayers; i++) {
      if (!model.isModified(i)) continue;
      const block = await model.blockWeights(i);
      for (const binding of this.linears.filter((candidate) => candidate.block === i)) {
        const [outFeatures, inFeatures] = shapes.get(binding.local)!;
        const weight = block.linears.get(binding.local)!.weight;
        const values = binding.layout === 'in_out' ? transpose(weight, outFeatures, inFeatures) : weight;
        const { bytes, external } = this.store.encode(binding.weight, values);
        const tensor = this.store.tensors.get(binding.weight)!;
        if (external === undefined) {
          tensor.raw_data = bytes;
          tensor.float_data = [];
          tensor.int32_data = [];
          tensor.double_data = [];
          continue;
        }
        let data = externalFiles.get(external.location);
        if (data === undefined) {
          data = new Uint8Array(await readFile(join(dirname(this.path), external.location)));
          externalFiles.set(external.location, data);
        }
        data.set(bytes, external.offset);
      }
    }

    // External data files are renamed after the output (`<out>.onnx_data`, then `_1`, `_2`, ...), so saving
    // next to the input never overwrites the input's data. NOTE: each file is copied whole, in memory.
    const locations = new Map<string, string>();
    for (const tensor of this.store.tensors.values()) {
      if (tensor.data_location !== 1) continue;
      const location = tensor.external_data?.find((entry) => entry.key === 'location')?.value;
      if (location !== undefined && !locations.has(location)) {
        locations.set(location, `${basename(outPath)}_data${locations.size === 0 ? '' : `_${locations.size}`}`);
      }
    }
    for (const [location, renamed] of locations) {
      const data = externalFiles.get(location) ?? new Uint8Array(await readFile(join(dirname(this.path), location)));
      await writeFileAtomic(join(dirname(outPath), renamed), data);
    }

    // Point the written graph at the renamed files, then restore the entries this source keeps reading from.
    const restored: [{ value?: string }, string][] = [];
    for (const tensor of this.store.model.graph?.initializer ?? []) {
      const entry = tensor.external_data?.find((candidate) => candidate.key === 'location');
      if (entry?.value === undefined || !locations.has(entry.value)) continue;
      restored.push([entry, entry.value]);
      entry.value = locations.get(entry.value);
    }
    try {
      await writeFileAtomic(outPath, encodeModel(this.store.model));
    } finally {
      for (const [entry, value] of restored) entry.value = value;
    }
  }
}

/** Finds the .onnx file of a path: the file itself, or model.onnx / decoder_model.onnx in a folder or its onnx/ subfolder. */
async function resolveOnnxFile(path: string): Promise<string> {
  const info = await stat(path).catch((error: Error) => {
    throw new InputError(`cannot read ONNX model: ${error.message}`, path, { cause: error });
  });
  if (info.isFile()) return path;
  for (const candidate of ['model.onnx', 'onnx/model.onnx', 'decoder_model.onnx', 'onnx/decoder_model.onnx']) {
    const file = join(path, candidate);
    if (await stat(file).then(() => true, () => false)) return file;
  }
  throw new InputError('no model.onnx or decoder_model.onnx found in the folder or its onnx/ subfolder', path);
}

async function readConfig(model: OnnxModel, file: string): Promise<{ config: ModelConfig; biases?: HfBiases }> {
  const embedded = model.metadata_props?.find((entry) => entry.key === 'sculpt.config')?.value;
  if (embedded !== undefined) {
    try {
      return { config: JSON.parse(embedded) as ModelConfig };
    } catch (error) {
      throw new InputError(`metadata "sculpt.config" is not valid JSON: ${(error as Error).message}`, file);
    }
  }
  for (const folder of [dirname(file), dirname(dirname(file))]) {
    const configPath = join(folder, 'config.json');
    const text = await readFile(configPath, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const parsed = parseHfConfig(text, configPath);
      return { config: parsed.config, biases: parsed.biases };
    }
  }
  throw new InputError('no model config found: the graph has no "sculpt.config" metadata and no config.json lies beside it or in its parent folder', file);
}

/** Loads an ONNX decoder export; weights are decoded per block on demand. */
export async function loadOnnx(path: string): Promise<CausalLM> {
  const file = await resolveOnnxFile(path);
  const bytes = await readFile(file);
  let proto: OnnxModel;
  try {
    proto = decodeModel(bytes);
  } catch (error) {
    throw new InputError(`not a valid ONNX model (protobuf decoding failed: ${(error as Error).message}); the file is truncated or corrupted`, file, { cause: error });
  }
  if (proto.graph === undefined || proto.graph === null || (proto.graph.node ?? []).length === 0) {
    throw new InputError('the ONNX model has no graph nodes; the file is truncated or not an ONNX model', file);
  }

  const { config } = await readConfig(proto, file);
  checkConfigShape(config, file);
  const store = new InitializerStore(proto, file);
  const { linears, head } = findLinears(proto, store, config, file);

  const prefix = onnxParameterPrefix(config);
  const named = hfBindings(config, { qkv: false, output: false, mlp: false, norms: config.family !== 'llama' }, prefix).filter(
    (binding) => binding.target.kind !== 'linearWeight' && binding.target.kind !== 'head',
  );
  const missing = named.filter((binding) => !store.has(binding.name)).map((binding) => binding.name);
  if (missing.length > 0) {
    throw new InputError(`initializers ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} are missing; norms and embeddings must keep their Hugging Face parameter names`, file);
  }

  const source = new OnnxSource(file, store, linears, named, config);
  const read = async (kind: string) => {
    const binding = named.find((candidate) => candidate.target.kind === kind);
    return binding === undefined ? undefined : store.read(binding.name);
  };
  const embedding = (await read('embedding'))!;
  let headWeight = embedding;
  let headBias: Float32Array | undefined;
  if (head !== undefined) {
    const raw = await store.read(head.weight);
    headWeight = head.layout === 'in_out' ? transpose(raw, config.dim, config.vocabSize) : raw;
    headBias = head.bias === undefined ? undefined : await store.read(head.bias);
  }
  const top: TopWeights = {
    embedding,
    positions: await read('positions'),
    finalNorm: { weight: (await read('finalNormWeight'))!, bias: await read('finalNormBias') },
    head: headWeight,
    headBias,
  };
  warnNonFinite([['embedding', top.embedding], ['lm_head', head === undefined ? undefined : top.head]], 'the top-level weights', file);
  return new CausalLM(config, top, source);
}

function checkConfigShape(config: ModelConfig, file: string): void {
  const fields: (keyof ModelConfig)[] = ['dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'headDim', 'vocabSize', 'maxSeqLen'];
  for (const field of fields) {
    const value = config[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new InputError(`model config field "${field}" is ${JSON.stringify(value)}; expected a positive integer`, file);
    }
  }
  if (!(config.family in BLOCK_LAYOUTS)) throw new InputError(`model config family ${JSON.stringify(config.family)} is unknown; expected llama, opt or gpt2`, file);
}

/** A graph input the logits session fills with an empty past (optimum's with-past and merged decoders). */
interface PastInput {
  name: string;
  dims: number[];
}

/**
 * An onnxruntime session over a whole decoder graph, returning logits; the
 * oracle for the runtime's forward pass. Graphs with KV-cache inputs get an
 * empty past (length 0) and `use_cache_branch = false`.
 */
export class OnnxLogitsSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly vocabSize: number,
    private readonly pastInputs: PastInput[],
  ) {}

  static async create(path: string, options: { threads?: number } = {}): Promise<OnnxLogitsSession> {
    const file = await resolveOnnxFile(path);
    const session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: options.threads ?? 2,
      enableCpuMemArena: false,
      graphOptimizationLevel: 'basic',
    });
    const graph = decodeModel(await readFile(file)).graph;
    const logitsName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
    const vocab = (graph?.output ?? []).find((output) => output.name === logitsName)?.type?.tensor_type?.shape?.dim?.[2]?.dim_value;

    // Past inputs are [batch, kv_heads, past_length, head_dim]; batch is 1 and the past is empty.
    const pastInputs: PastInput[] = [];
    for (const input of graph?.input ?? []) {
      if (!/^past_key_values\.\d+\.(key|value)$/.test(input.name ?? '')) continue;
      const dims = (input.type?.tensor_type?.shape?.dim ?? []).map((dim, axis) => (axis === 0 ? 1 : axis === 2 ? 0 : int64ToNumber(dim.dim_value)));
      if (dims.length !== 4 || dims[1] <= 0 || dims[3] <= 0) {
        throw new InputError(`KV-cache input ${input.name} needs fixed kv_heads and head_dim dimensions to feed an empty past`, file);
      }
      pastInputs.push({ name: input.name!, dims });
    }
    return new OnnxLogitsSession(session, vocab === undefined ? 0 : int64ToNumber(vocab), pastInputs);
  }

  /** Logits [tokens.length, vocab] of one sequence. */
  async forward(tokens: ArrayLike<number>): Promise<Float32Array> {
    const ids = new ort.Tensor('int64', BigInt64Array.from(Array.from(tokens, (token) => BigInt(token))), [1, tokens.length]);
    const feeds: Record<string, ort.Tensor> = { input_ids: ids };
    if (this.session.inputNames.includes('attention_mask')) {
      feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(tokens.length).fill(1n), [1, tokens.length]);
    }
    if (this.session.inputNames.includes('position_ids')) {
      feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: tokens.length }, (_, i) => BigInt(i)), [1, tokens.length]);
    }
    for (const past of this.pastInputs) feeds[past.name] = new ort.Tensor('float32', new Float32Array(0), past.dims);
    if (this.session.inputNames.includes('use_cache_branch')) feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(0), [1]);

    const results = await this.session.run(feeds);
    const logits = results.logits ?? results[this.session.outputNames[0]];
    const data = Float32Array.from(logits.data as Float32Array);
    for (const tensor of Object.values(results)) tensor.dispose();
    return data;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
