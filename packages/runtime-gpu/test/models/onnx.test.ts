import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@sculpt/core';
import { decodeModel, encodeModel, int64ToNumber } from '../../src/onnx/schema.js';
import { exportOnnx, loadHf, loadLlama2c, loadOnnx, OnnxLogitsSession, type CausalLM } from '../../src/models/index.js';
import { maxRelativeError, referenceLogits, storiesModel, tinyHfModel, writeTinyHfModel, type TinyFamily } from './fixtures.js';

let folder: string;
let stories: CausalLM;
const storiesTokens = [1, 403, 407, 261, 378, 300, 5, 9, 100, 260, 511];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'sculpt-onnx-'));
  stories = await loadLlama2c(storiesModel);
});

afterAll(async () => {
  await stories.close();
  await rm(folder, { recursive: true, force: true });
});

async function ortLogits(path: string, tokens: number[]): Promise<Float32Array> {
  const session = await OnnxLogitsSession.create(path);
  try {
    return await session.forward(tokens);
  } finally {
    await session.release();
  }
}

describe('ONNX export', () => {
  it('stories260K logits match onnxruntime', async () => {
    const path = join(folder, 'stories.onnx');
    await exportOnnx(stories, path);
    const expected = await stories.forward(storiesTokens);
    expect(maxRelativeError(await ortLogits(path, storiesTokens), expected)).toBeLessThan(1e-4);
  });

  it.each(['llama', 'qwen2', 'opt', 'gpt2'] as TinyFamily[])('%s logits match onnxruntime', async (family) => {
    const tiny = tinyHfModel(family, 21);
    const source = join(folder, `${family}-hf`);
    await writeTinyHfModel(source, tiny);
    const model = await loadHf(source);
    const path = join(folder, `${family}.onnx`);
    await exportOnnx(model, path);
    const tokens = [2, 30, 7, 7, 19, 1];
    const logits = await ortLogits(path, tokens);
    expect(maxRelativeError(logits, referenceLogits(family, tiny, tokens))).toBeLessThan(1e-4);
    await model.close();
  });

  it('feeds empty past to cache inputs', async () => {
    // A graph that declares optimum-style KV-cache inputs (unused here) must still run with an empty past.
    const path = join(folder, 'with-past.onnx');
    await exportOnnx(stories, path);
    const proto = decodeModel(await readFile(path));
    for (const kind of ['key', 'value']) {
      proto.graph!.input!.push({
        name: `past_key_values.0.${kind}`,
        type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch_size' }, { dim_value: 4 }, { dim_param: 'past_sequence_length' }, { dim_value: 8 }] } } },
      });
    }
    await writeFile(path, encodeModel(proto));
    expect(maxRelativeError(await ortLogits(path, storiesTokens), await stories.forward(storiesTokens))).toBeLessThan(1e-4);
  });

  it('writes external data file', async () => {
    const path = join(folder, 'external.onnx');
    await exportOnnx(stories, path, { externalData: true });
    expect((await stat(`${path}_data`)).size).toBeGreaterThan(1_000_000);
    expect((await stat(path)).size).toBeLessThan(200_000);
    expect(maxRelativeError(await ortLogits(path, storiesTokens), await stories.forward(storiesTokens))).toBeLessThan(1e-4);
  });
});

describe('ONNX import', () => {
  it('maps exported weights onto blocks', async () => {
    const path = join(folder, 'import.onnx');
    await exportOnnx(stories, path);
    const model = await loadOnnx(path);
    expect(model.source.format).toBe('onnx');
    expect(maxRelativeError(await model.forward(storiesTokens), await stories.forward(storiesTokens))).toBeLessThan(1e-5);
  });

  it('finds onnxruntime-genai node names', async () => {
    const path = join(folder, 'genai.onnx');
    await exportOnnx(stories, path);
    const proto = decodeModel(await readFile(path));
    for (const node of proto.graph!.node!) node.name = node.name!.replace('/self_attn/', '/attn/');
    await writeFile(path, encodeModel(proto));
    const model = await loadOnnx(path);
    expect(maxRelativeError(await model.forward(storiesTokens), await stories.forward(storiesTokens))).toBeLessThan(1e-5);
  });

  it('reads Gemm with transB', async () => {
    const path = join(folder, 'gemm.onnx');
    await exportOnnx(stories, path);
    const proto = decodeModel(await readFile(path));
    const node = proto.graph!.node!.find((candidate) => candidate.name === '/model/layers.0/mlp/up_proj/MatMul')!;
    const initializer = proto.graph!.initializer!.find((tensor) => tensor.name === node.input![1])!;
    const [rows, cols] = initializer.dims!.map((dim) => int64ToNumber(dim));
    const copy = new Uint8Array(initializer.raw_data!.byteLength);
    copy.set(initializer.raw_data!);
    const values = new Float32Array(copy.buffer);
    const transposed = new Float32Array(values.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) transposed[c * rows + r] = values[r * cols + c];
    initializer.dims = [cols, rows];
    initializer.raw_data = new Uint8Array(transposed.buffer);
    node.op_type = 'Gemm';
    node.name = '/model/layers.0/mlp/up_proj/Gemm';
    node.attribute = [{ name: 'transB', type: 2, i: 1 }];
    await writeFile(path, encodeModel(proto));
    const model = await loadOnnx(path);
    const expected = (await stories.block(0)).weights.linears.get('mlp.up_proj')!.weight;
    expect(Array.from((await model.block(0)).weights.linears.get('mlp.up_proj')!.weight)).toEqual(Array.from(expected));
  });

  it('saves pruned initializers in place', async () => {
    const path = join(folder, 'prune.onnx');
    await exportOnnx(stories, path, { externalData: true });
    const model = await loadOnnx(path);
    const layer = (await model.block(3)).linearLayers().find((candidate) => candidate.name === 'self_attn.v_proj')!;
    layer.setWeight(layer.getWeight().map((value, i) => (i % 2 === 0 ? 0 : value)));
    const out = join(folder, 'pruned.onnx');
    await model.save(out);
    expect((await stat(`${out}_data`)).size).toBe((await stat(`${path}_data`)).size);

    const before = decodeModel(await readFile(path)).graph!.initializer!.map((tensor) => [tensor.name, tensor.dims!.map(Number), tensor.data_type]);
    const after = decodeModel(await readFile(out)).graph!.initializer!.map((tensor) => [tensor.name, tensor.dims!.map(Number), tensor.data_type]);
    expect(after).toEqual(before);
    const expected = await model.forward(storiesTokens);
    expect(maxRelativeError(await ortLogits(out, storiesTokens), expected)).toBeLessThan(1e-4);
    expect(maxRelativeError(await ortLogits(path, storiesTokens), expected)).toBeGreaterThan(1e-3);
    const reloaded = await loadOnnx(out);
    expect(Array.from((await reloaded.block(3)).weights.linears.get('self_attn.v_proj')!.weight)).toEqual(Array.from(layer.getWeight()));
  });

  it('rejects graph without config', async () => {
    const path = join(folder, 'no-config.onnx');
    await exportOnnx(stories, path);
    const proto = decodeModel(await readFile(path));
    proto.metadata_props = [];
    await writeFile(path, encodeModel(proto));
    const error = await loadOnnx(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/no model config found/);
  });

  it('rejects graph with unnamed linear nodes', async () => {
    const path = join(folder, 'anonymous.onnx');
    await exportOnnx(stories, path);
    const proto = decodeModel(await readFile(path));
    for (const node of proto.graph!.node!) if (node.op_type === 'MatMul') node.name = `node_linear_${node.name!.length}`;
    await writeFile(path, encodeModel(proto));
    await expect(loadOnnx(path)).rejects.toThrow(/no MatMul\/Gemm node found for block 0 self_attn\.q_proj/);
  });
});
