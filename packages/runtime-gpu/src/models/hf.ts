/**
 * Hugging Face model folders: `config.json` plus `model.safetensors`, or
 * shards `model-0000x-of-0000y.safetensors` listed in
 * `model.safetensors.index.json`. Weights may be F32, F16 or BF16; they are
 * converted to float32 on load and back to each tensor's own dtype on save.
 */
import { cp, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError, UsageError, writeFileAtomic } from '@sculpt/core';
import type { ModelConfig } from './config.js';
import { blockWeightsInHalfLayout } from './half-layout-weights.js';
import { parseHfConfig, toHfConfig, type HfBiases, type ParsedHfConfig } from './hf-config.js';
import { detectPrefix, hfBindings, readBound, transpose, type TensorBinding } from './hf-names.js';
import { CausalLM, warnNonFinite, type ModelSource, type SaveOptions } from './model.js';
import { SafetensorsFile, encodeFloat, writeSafetensors, type FloatDtype, type SafetensorsTensorData } from './safetensors.js';
import { checkOverwrite, writeFolderAtomic } from './save-guard.js';
import type { BlockWeights, TopWeights } from './weights.js';

const INDEX_FILE = 'model.safetensors.index.json';
const SINGLE_FILE = 'model.safetensors';

/** Opens every shard of a folder and maps tensor names to the shard holding them. */
async function openShards(folder: string): Promise<{ files: SafetensorsFile[]; byName: Map<string, SafetensorsFile>; indexed: boolean }> {
  const indexPath = join(folder, INDEX_FILE);
  const indexText = await readFile(indexPath, 'utf8').catch(() => undefined);
  const files: SafetensorsFile[] = [];
  const byName = new Map<string, SafetensorsFile>();

  try {
    if (indexText !== undefined) {
      let weightMap: unknown;
      try {
        weightMap = (JSON.parse(indexText) as { weight_map?: unknown }).weight_map;
      } catch (error) {
        throw new InputError(`invalid shard index: ${(error as Error).message}`, indexPath);
      }
      if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
        throw new InputError('invalid shard index: "weight_map" must map tensor names to shard file names', indexPath);
      }
      const shardNames = [...new Set(Object.values(weightMap as Record<string, unknown>))];
      for (const shard of shardNames) {
        if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
          throw new InputError(`invalid shard index: shard name ${JSON.stringify(shard)} must be a plain file name in the model folder`, indexPath);
        }
        files.push(await SafetensorsFile.open(join(folder, shard)));
      }
      for (const [name, shard] of Object.entries(weightMap as Record<string, string>)) {
        const file = files.find((candidate) => candidate.path === join(folder, shard))!;
        if (!file.header.entries.has(name)) {
          throw new InputError(`shard index maps tensor "${name}" to ${shard}, which does not contain it`, indexPath);
        }
        byName.set(name, file);
      }
      return { files, byName, indexed: true };
    }

    const single = join(folder, SINGLE_FILE);
    const exists = await stat(single).then(
      () => true,
      () => false,
    );
    if (!exists) {
      throw new InputError(`no ${SINGLE_FILE} or ${INDEX_FILE} found; only safetensors checkpoints are supported (convert pytorch_model.bin with transformers first)`, folder);
    }
    const file = await SafetensorsFile.open(single);
    files.push(file);
    for (const name of file.names) byName.set(name, file);
    return { files, byName, indexed: false };
  } catch (error) {
    await Promise.all(files.map((file) => file.close()));
    throw error;
  }
}

class HfSource implements ModelSource {
  readonly format = 'hf' as const;

  constructor(
    readonly path: string,
    readonly parsed: ParsedHfConfig,
    readonly bindings: TensorBinding[],
    private readonly files: SafetensorsFile[],
    private readonly byName: Map<string, SafetensorsFile>,
  ) {}

  async read(binding: TensorBinding): Promise<Float32Array> {
    const file = this.byName.get(binding.name)!;
    const values = await file.readFloat32(binding.name);
    return binding.transposed ? transpose(values, binding.shape[0], binding.shape[1]) : values;
  }

  async loadBlock(index: number): Promise<BlockWeights> {
    const block: BlockWeights = { linears: new Map(), norms: new Map() };
    for (const binding of this.bindings) {
      const target = binding.target;
      if (!('block' in target) || target.block !== index) continue;
      const values = await this.read(binding);
      if (target.kind === 'linearWeight' || target.kind === 'linearBias') {
        const [outFeatures, inFeatures] = binding.transposed ? [binding.shape[1], binding.shape[0]] : [binding.shape[0], binding.shape[1]];
        const layer = block.linears.get(target.local) ?? { outFeatures: 0, inFeatures: 0, weight: new Float32Array(0) };
        if (target.kind === 'linearWeight') Object.assign(layer, { outFeatures, inFeatures, weight: values });
        else layer.bias = values;
        block.linears.set(target.local, layer);
      } else {
        const norm = block.norms.get(target.local) ?? { weight: new Float32Array(0) };
        if (target.kind === 'normWeight') norm.weight = values;
        else norm.bias = values;
        block.norms.set(target.local, norm);
      }
    }
    return block;
  }

  async save(model: CausalLM, outPath: string, options: SaveOptions): Promise<void> {
    await checkOverwrite(model, outPath, options);
    const bindingByName = new Map(this.bindings.map((binding) => [binding.name, binding]));

    await writeFolderAtomic(outPath, async (folder) => {
      // Config, tokenizer and index files are copied as they are: names, dtypes and shapes do not change.
      for (const entry of await readdir(this.path, { withFileTypes: true })) {
        if (entry.name.endsWith('.safetensors') || entry.name.startsWith('.')) continue;
        await cp(join(this.path, entry.name), join(folder, entry.name), { recursive: true });
      }
      // NOTE: one shard's encoded bytes are held in memory while it is written, which is several GB for typical published shards.
      for (const file of this.files) {
        const tensors: SafetensorsTensorData[] = [];
        const ordered = [...file.header.entries.values()].sort((a, b) => a.begin - b.begin);
        for (const entry of ordered) {
          const binding = bindingByName.get(entry.name);
          if (binding === undefined) {
            tensors.push({ name: entry.name, dtype: entry.dtype, shape: entry.shape, data: await file.readBytes(entry.name) });
            continue;
          }
          const values = await boundValues(model, binding);
          tensors.push({ name: entry.name, dtype: entry.dtype, shape: entry.shape, data: encodeFloat(values, entry.dtype as FloatDtype) });
        }
        await writeSafetensors(join(folder, basename(file.path)), tensors, file.header.metadata);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((file) => file.close()));
  }
}

/** Reads a binding's current values from the model, loading (and then releasing) its block. */
async function boundValues(model: CausalLM, binding: TensorBinding): Promise<Float32Array> {
  const target = binding.target;
  if (!('block' in target)) return readBound(binding, model.top, undefined);
  const block = await model.blockWeights(target.block);
  const values = readBound(binding, model.top, block);
  model.release(target.block);
  return values;
}

/** Opens a Hugging Face model folder; block weights are read on demand. */
export async function loadHf(folder: string): Promise<CausalLM> {
  const configPath = join(folder, 'config.json');
  const configText = await readFile(configPath, 'utf8').catch((error: Error) => {
    throw new InputError(`cannot read config.json: ${error.message}`, configPath, { cause: error });
  });
  const parsed = parseHfConfig(configText, configPath);
  const { files, byName } = await openShards(folder);

  try {
    const prefix = detectPrefix(parsed.config.family, (name) => byName.has(name));
    const bindings = hfBindings(parsed.config, parsed.biases, prefix).filter((binding) => {
      if (binding.target.kind === 'head' && parsed.config.tiedEmbeddings) return false;
      return true;
    });
    checkBindings(bindings, byName, folder);
    const source = new HfSource(folder, parsed, bindings, files, byName);
    const top = await loadTop(source, bindings, parsed.config);
    warnNonFinite(
      [
        ['embedding', top.embedding],
        ['positions', top.positions],
        ['final norm', top.finalNorm.weight],
        ['lm_head', top.head === top.embedding ? undefined : top.head],
      ],
      'the top-level weights',
      folder,
    );
    return new CausalLM(parsed.config, top, source);
  } catch (error) {
    await Promise.all(files.map((file) => file.close()));
    throw error;
  }
}

function checkBindings(bindings: TensorBinding[], byName: Map<string, SafetensorsFile>, folder: string): void {
  for (const binding of bindings) {
    const file = byName.get(binding.name);
    if (file === undefined) {
      if (binding.optional) continue;
      throw new InputError(`tensor "${binding.name}" is missing from the checkpoint; the config and the weights do not match`, folder);
    }
    const entry = file.entry(binding.name);
    if (entry.dtype !== 'F32' && entry.dtype !== 'F16' && entry.dtype !== 'BF16') {
      throw new InputError(`tensor "${binding.name}" has dtype ${entry.dtype}; weights must be F32, F16 or BF16`, file.path);
    }
    if (entry.shape.length !== binding.shape.length || entry.shape.some((dim, i) => dim !== binding.shape[i])) {
      throw new InputError(`tensor "${binding.name}" has shape ${JSON.stringify(entry.shape)} but config.json implies ${JSON.stringify(binding.shape)}`, file.path);
    }
  }
}

async function loadTop(source: HfSource, bindings: TensorBinding[], config: ModelConfig): Promise<TopWeights> {
  const find = (kind: string) => bindings.find((binding) => binding.target.kind === kind);
  const read = async (kind: string) => {
    const binding = find(kind);
    return binding === undefined ? undefined : source.read(binding);
  };
  const embedding = (await read('embedding'))!;
  let head = await read('head');
  if (head === undefined) {
    if (!config.tiedEmbeddings) throw new InputError('tensor "lm_head.weight" is missing and tie_word_embeddings is false', source.path);
    head = embedding;
  }
  return {
    embedding,
    positions: await read('positions'),
    finalNorm: { weight: (await read('finalNormWeight'))!, bias: await read('finalNormBias') },
    head,
  };
}

/** Biases a model's blocks carry, for writing a config that declares them. */
function biasesOf(model: CausalLM, blocks: BlockWeights[]): HfBiases {
  const layout = model.config.family;
  const first = blocks[0];
  const has = (predicate: (local: string) => boolean) => [...first.linears].some(([local, layer]) => predicate(local) && layer.bias !== undefined);
  const isQkv = (local: string) => /q_proj|k_proj|v_proj|c_attn/.test(local);
  const isOutput = (local: string) => /o_proj|out_proj|attn\.c_proj/.test(local);
  return {
    qkv: has(isQkv),
    output: has(isOutput),
    mlp: has((local) => !isQkv(local) && !isOutput(local)),
    norms: layout !== 'llama',
  };
}

/**
 * Writes any loaded model as a fresh Hugging Face folder (F32, one
 * model.safetensors, standard names). Llama-family models with interleaved
 * RoPE get their q/k rows permuted to HF's half-split layout.
 */
export async function convertToHf(model: CausalLM, outPath: string, options: SaveOptions & { copyFiles?: string[] } = {}): Promise<void> {
  await checkOverwrite(model, outPath, options);
  const blocks = await model.loadAll();
  const config: ModelConfig = { ...model.config, ropeLayout: 'half' };
  const biases = biasesOf(model, blocks);
  if (config.family === 'llama' && biases.mlp) throw new UsageError('cannot write a Hugging Face Llama config for MLP biases');

  const permuted = blocks.map((block) => blockWeightsInHalfLayout(model.config, block));

  const tied = model.top.head === model.top.embedding;
  const hfConfig = toHfConfig({ ...config, tiedEmbeddings: tied });
  if (config.family === 'llama' && (biases.qkv || biases.output)) {
    if (biases.qkv && !biases.output) {
      Object.assign(hfConfig, { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2' });
    } else {
      hfConfig.attention_bias = true;
    }
  }
  const bindings = hfBindings({ ...config, tiedEmbeddings: tied }, biases, detectPrefix(config.family, () => false)).filter(
    (binding) => !(binding.optional && tied),
  );

  await writeFolderAtomic(outPath, async (folder) => {
    await writeFileAtomic(join(folder, 'config.json'), `${JSON.stringify(hfConfig, null, 2)}\n`);
    const tensors = bindings.map((binding) => {
      const block = 'block' in binding.target ? permuted[binding.target.block] : undefined;
      return { name: binding.name, dtype: 'F32' as const, shape: binding.shape, data: encodeFloat(readBound(binding, model.top, block), 'F32') };
    });
    await writeSafetensors(join(folder, SINGLE_FILE), tensors, { format: 'pt' });
    for (const file of options.copyFiles ?? []) await cp(file, join(folder, file.split('/').pop()!));
  });
}
