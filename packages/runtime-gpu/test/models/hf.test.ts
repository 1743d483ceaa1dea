import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLogLevel, InputError, setLogLevel, setLogSink, type LogRecord } from '@sculpt/core';
import { BlockRunner, convertToHf, encodeFloat, exportOnnx, loadHf, loadLlama2c, loadOnnx, saveLlama2c, SafetensorsFile, writeSafetensors, type SafetensorsTensorData } from '../../src/models/index.js';
import { maxRelativeError, referenceLogits, storiesModel, tinyHfModel, writeTinyHfModel, type TinyFamily } from './fixtures.js';

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'sculpt-hf-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

const tokens = [3, 17, 0, 39, 8, 8, 21, 5];

describe.each(['llama', 'qwen2', 'opt', 'gpt2'] as TinyFamily[])('%s checkpoint', (family) => {
  it('logits match float64 reference', async () => {
    const tiny = tinyHfModel(family, 7);
    const path = join(folder, `${family}-reference`);
    await writeTinyHfModel(path, tiny);
    const model = await loadHf(path);
    const logits = await model.forward(tokens);
    expect(maxRelativeError(logits, referenceLogits(family, tiny, tokens))).toBeLessThan(1e-5);
    await model.close();
  });

  it('block runner with hooks equals forward', async () => {
    const tiny = tinyHfModel(family, 8);
    const path = join(folder, `${family}-blocks`);
    await writeTinyHfModel(path, tiny);
    const model = await loadHf(path);
    const runner = new BlockRunner(model);
    let inputs = await runner.captureInputs([{ tokens }, { tokens: tokens.slice(0, 5) }]);
    const names = new Set<string>();
    for (let i = 0; i < model.config.nLayers; i++) {
      inputs = await runner.forwardBlock(i, inputs, { onLinearInput: (name) => names.add(name) });
    }
    const logits = await runner.logits(inputs);
    expect(Array.from(logits[0])).toEqual(Array.from(await model.forward(tokens)));
    expect([...names]).toEqual((await model.block(0)).linearLayers().map((layer) => layer.name));
    await model.close();
  });

  it('saves pruned weights in place format', async () => {
    const tiny = tinyHfModel(family, 9);
    const path = join(folder, `${family}-save`);
    await writeTinyHfModel(path, tiny);
    const model = await loadHf(path);
    const block = await model.block(1);
    const first = block.linearLayers()[0];
    const weight = first.getWeight().map((value, i) => (i % 3 === 0 ? 0 : value));
    first.setWeight(weight);

    const out = join(folder, `${family}-saved`);
    await model.save(out);
    const original = await SafetensorsFile.open(join(path, 'model.safetensors'));
    const saved = await SafetensorsFile.open(join(out, 'model.safetensors'));
    expect(saved.names).toEqual(original.names);
    for (const name of original.names) expect(saved.entry(name).shape).toEqual(original.entry(name).shape);

    const reloaded = await loadHf(out);
    expect(Array.from((await reloaded.block(1)).linearLayers()[0].getWeight())).toEqual(Array.from(weight));
    const expected = await model.forward(tokens);
    expect(Array.from(await reloaded.forward(tokens))).toEqual(Array.from(expected));
    await Promise.all([original.close(), saved.close(), model.close(), reloaded.close()]);
  });
});

describe('Llama config variants', () => {
  it.each([
    ['linear rope_scaling', { rope_scaling: { rope_type: 'linear', factor: 2.5 } }],
    ['Mistral sliding window', { architectures: ['MistralForCausalLM'], sliding_window: 3 }],
  ])('%s matches reference', async (name, overrides) => {
    const tiny = tinyHfModel('llama', 12);
    const variant = { ...tiny, config: { ...tiny.config, ...overrides } };
    const path = join(folder, `variant-${name.replace(/ /g, '-')}`);
    await writeTinyHfModel(path, variant);
    const model = await loadHf(path);
    const reference = referenceLogits('llama', variant, tokens);
    expect(maxRelativeError(await model.forward(tokens), reference)).toBeLessThan(1e-5);
    // The variant must change the logits, or the comparison above proves nothing.
    expect(maxRelativeError(reference, referenceLogits('llama', tiny, tokens))).toBeGreaterThan(1e-3);
    await model.close();
  });
});

describe('Hugging Face conversion', () => {
  it('llama2.c to HF keeps greedy tokens', async () => {
    const source = await loadLlama2c(storiesModel);
    const out = join(folder, 'stories-hf');
    await convertToHf(source, out);
    const converted = await loadHf(out);
    expect(converted.config.ropeLayout).toBe('half');
    const prompt = [1, 403, 407, 261];
    const greedy = async (model: typeof source) => {
      const sequence = prompt.slice();
      for (let step = 0; step < 20; step++) {
        const logits = await model.forward(sequence);
        const last = logits.subarray((sequence.length - 1) * 512);
        let best = 0;
        for (let v = 1; v < 512; v++) if (last[v] > last[best]) best = v;
        sequence.push(best);
      }
      return sequence;
    };
    expect(await greedy(converted)).toEqual(await greedy(source));
    expect(maxRelativeError(await converted.forward(prompt), await source.forward(prompt))).toBeLessThan(1e-5);
    await Promise.all([source.close(), converted.close()]);
  });

  it('HF back to llama2.c keeps weights', async () => {
    const source = await loadLlama2c(storiesModel);
    const hfPath = join(folder, 'stories-hf-back');
    await convertToHf(source, hfPath);
    const hf = await loadHf(hfPath);
    const back = join(folder, 'stories-back.bin');
    await saveLlama2c(hf, back);
    const reloaded = await loadLlama2c(back);
    for (let i = 0; i < source.config.nLayers; i++) {
      const expected = (await source.block(i)).weights;
      const got = (await reloaded.block(i)).weights;
      for (const [name, layer] of expected.linears) expect(Array.from(got.linears.get(name)!.weight), `block ${i} ${name}`).toEqual(Array.from(layer.weight));
    }
    await Promise.all([source.close(), hf.close(), reloaded.close()]);
  });

  it('GPT-2 through ONNX back to HF', async () => {
    const tiny = tinyHfModel('gpt2', 13);
    const path = join(folder, 'gpt2-chain');
    await writeTinyHfModel(path, tiny);
    const model = await loadHf(path);
    const onnxPath = join(folder, 'gpt2-chain.onnx');
    await exportOnnx(model, onnxPath);
    const fromOnnx = await loadOnnx(onnxPath);
    const hfAgain = join(folder, 'gpt2-chain-hf');
    await convertToHf(fromOnnx, hfAgain);
    const reloaded = await loadHf(hfAgain);
    expect(maxRelativeError(await reloaded.forward(tokens), referenceLogits('gpt2', tiny, tokens))).toBeLessThan(1e-5);
    const saved = await SafetensorsFile.open(join(hfAgain, 'model.safetensors'));
    expect(saved.entry('h.0.attn.c_attn.weight').shape).toEqual([16, 48]);
    await Promise.all([saved.close(), model.close(), reloaded.close()]);
  });

  it('sharded F16 and BF16 save keeps layout', async () => {
    const tiny = tinyHfModel('llama', 11);
    const path = join(folder, 'sharded');
    await writeTinyHfModel(path, tiny);
    await rm(join(path, 'model.safetensors'));
    const names = [...tiny.tensors.keys()];
    const half = Math.floor(names.length / 2);
    const shard = (subset: string[], dtype: 'F16' | 'BF16'): SafetensorsTensorData[] =>
      subset.map((name) => ({ name, dtype, shape: tiny.tensors.get(name)!.shape, data: encodeFloat(Float32Array.from(tiny.tensors.get(name)!.values), dtype) }));
    const files = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    await writeSafetensors(join(path, files[0]), shard(names.slice(0, half), 'F16'), { format: 'pt' });
    await writeSafetensors(join(path, files[1]), shard(names.slice(half), 'BF16'), { format: 'pt' });
    const weightMap = Object.fromEntries(names.map((name, i) => [name, files[i < half ? 0 : 1]]));
    await writeFile(join(path, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));

    const model = await loadHf(path);
    const reference = referenceLogits('llama', tiny, tokens);
    expect(maxRelativeError(await model.forward(tokens), reference)).toBeLessThan(0.05);

    const layer = (await model.block(0)).linearLayers()[6];
    layer.setWeight(layer.getWeight().map((value, i) => (i < 10 ? 0 : value)));
    const out = join(folder, 'sharded-saved');
    await model.save(out);
    expect((await readdir(out)).sort()).toEqual(['config.json', 'model.safetensors.index.json', ...files].sort());
    for (const [file, dtype] of [
      [files[0], 'F16'],
      [files[1], 'BF16'],
    ]) {
      const saved = await SafetensorsFile.open(join(out, file));
      expect(new Set(saved.names.map((name) => saved.entry(name).dtype))).toEqual(new Set([dtype]));
      await saved.close();
    }
    const reloaded = await loadHf(out);
    expect(Array.from(await reloaded.forward(tokens))).toEqual(Array.from(await model.forward(tokens)));
    await Promise.all([model.close(), reloaded.close()]);
  });
});

describe('Hugging Face input errors', () => {
  it('rejects unknown architecture with list', async () => {
    const path = join(folder, 'unknown-arch');
    const tiny = tinyHfModel('llama', 1);
    await writeTinyHfModel(path, { ...tiny, config: { ...tiny.config, architectures: ['MambaForCausalLM'] } });
    await expect(loadHf(path)).rejects.toThrow(/unsupported architecture "MambaForCausalLM"; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, OPTForCausalLM, GPT2LMHeadModel/);
  });

  it('rejects config missing field', async () => {
    const path = join(folder, 'missing-field');
    const tiny = tinyHfModel('opt', 1);
    const config = { ...tiny.config };
    delete config.ffn_dim;
    await writeTinyHfModel(path, { ...tiny, config });
    const error = await loadHf(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/config\.json.*missing the required field "ffn_dim"/);
  });

  it('rejects config that disagrees with weights', async () => {
    const path = join(folder, 'wrong-shape');
    const tiny = tinyHfModel('gpt2', 1);
    await writeTinyHfModel(path, { ...tiny, config: { ...tiny.config, n_inner: 20 } });
    await expect(loadHf(path)).rejects.toThrow(/tensor "h\.0\.mlp\.c_fc\.weight" has shape \[16,24\] but config\.json implies \[16,20\]/);
  });

  it('rejects folder without weights', async () => {
    const path = join(folder, 'no-weights');
    await writeTinyHfModel(path, tinyHfModel('llama', 1));
    await rm(join(path, 'model.safetensors'));
    await expect(loadHf(path)).rejects.toThrow(/no model\.safetensors or model\.safetensors\.index\.json found/);
  });

  it('warns naming NaN tensor', async () => {
    const tiny = tinyHfModel('llama', 2);
    tiny.tensors.get('model.layers.1.mlp.up_proj.weight')!.values[5] = NaN;
    const path = join(folder, 'nan');
    await writeTinyHfModel(path, tiny);
    const records: LogRecord[] = [];
    const previous = setLogSink((record) => records.push(record));
    const previousLevel = getLogLevel();
    setLogLevel('warn');
    try {
      const model = await loadHf(path);
      await model.block(1);
      await model.close();
    } finally {
      setLogSink(previous);
      setLogLevel(previousLevel);
    }
    const warning = records.find((record) => record.level === 'warn');
    expect(warning).toBeDefined();
    expect(String(warning!.message)).toMatch(/block 1 has NaN or infinite values in mlp\.up_proj\.weight/);
  });

  it('rejects existing output without force', async () => {
    const path = join(folder, 'force');
    await writeTinyHfModel(path, tinyHfModel('gpt2', 3));
    const model = await loadHf(path);
    await expect(model.save(path)).rejects.toThrow(/is the input model/);
    await model.save(path, { force: true });
    expect(JSON.parse(await readFile(join(path, 'config.json'), 'utf8')).n_embd).toBe(16);
    await model.close();
  });
});
