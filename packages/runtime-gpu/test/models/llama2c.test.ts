import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '@sculpt/core';
import { BlockRunner, CausalLM, loadLlama2c, loadModel, saveLlama2c } from '../../src/models/index.js';
import { decodeWithPieces, storiesModel, storiesTokenizer, STORIES_REFERENCE_TEXT } from './fixtures.js';

let model: CausalLM;
let folder: string;

beforeAll(async () => {
  model = await loadLlama2c(storiesModel);
  folder = await mkdtemp(join(tmpdir(), 'sculpt-llama2c-'));
});

afterAll(async () => {
  await model.close();
  await rm(folder, { recursive: true, force: true });
});

/** Greedy decoding from BOS with a KV cache, stopping at BOS as llama2.c's run does. */
async function greedyFromBos(lm: CausalLM, maxTokens: number): Promise<number[]> {
  const caches = lm.createCache(lm.config.maxSeqLen);
  const out: number[] = [];
  let token = 1;
  for (let position = 0; position < maxTokens; position++) {
    let hidden = lm.embed([token], [position]);
    for (let i = 0; i < lm.config.nLayers; i++) hidden = await lm.runBlock(i, hidden, 1, [position], { cache: caches[i] });
    const logits = await lm.logits(hidden, 1);
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    if (best === 1) break;
    out.push(best);
    token = best;
  }
  return out;
}

describe('llama2.c checkpoint', () => {
  it('reads the stories260K header', () => {
    expect(model.config).toMatchObject({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, maxSeqLen: 512, tiedEmbeddings: true });
    expect(model.top.head).toBe(model.top.embedding);
  });

  it('greedy text matches llama2.c reference', async () => {
    const tokens = await greedyFromBos(model, 511);
    const text = decodeWithPieces(await readFile(storiesTokenizer), tokens);
    expect(text.startsWith(STORIES_REFERENCE_TEXT)).toBe(true);
  });

  it('block runner equals full forward', async () => {
    const tokens = [1, 403, 407, 261, 378, 300, 5];
    const full = await model.forward(tokens);
    const runner = new BlockRunner(model);
    let inputs = await runner.captureInputs([{ tokens }]);
    const seen = new Map<string, number>();
    for (let i = 0; i < model.config.nLayers; i++) {
      inputs = await runner.forwardBlock(i, inputs, {
        onLinearInput: (name, input, rows) => {
          seen.set(name, input.length / rows);
        },
      });
    }
    const [logits] = await runner.logits(inputs);
    expect(Array.from(logits)).toEqual(Array.from(full));
    expect(Object.fromEntries(seen)).toEqual({
      'self_attn.q_proj': 64,
      'self_attn.k_proj': 64,
      'self_attn.v_proj': 64,
      'self_attn.o_proj': 64,
      'mlp.gate_proj': 64,
      'mlp.up_proj': 64,
      'mlp.down_proj': 172,
    });
  });

  it('hook input equals linear input recomputed', async () => {
    // The q/k/v input is RMSNorm(x) · w of block 0's input, checked in float64.
    const tokens = [1, 300, 301];
    const runner = new BlockRunner(model);
    const inputs = await runner.captureInputs([{ tokens }]);
    let captured: Float32Array | undefined;
    await runner.forwardBlock(0, inputs, { onLinearInput: (name, input) => (name === 'self_attn.q_proj' ? (captured = input.slice()) : undefined) });
    const block = await model.block(0);
    const weight = block.weights.norms.get('input_layernorm')!.weight;
    const x = inputs[0].hidden;
    for (let t = 0; t < tokens.length; t++) {
      let sum = 0;
      for (let i = 0; i < 64; i++) sum += x[t * 64 + i] ** 2;
      const scale = 1 / Math.sqrt(sum / 64 + 1e-5);
      for (let i = 0; i < 64; i++) expect(captured![t * 64 + i]).toBeCloseTo(x[t * 64 + i] * scale * weight[i], 5);
    }
  });

  it('saves pruned weights and reloads them', async () => {
    const pruned = await loadLlama2c(storiesModel);
    const block = await pruned.block(2);
    const down = block.linearLayers().find((layer) => layer.name === 'mlp.down_proj')!;
    const weight = down.getWeight().slice();
    for (let i = 0; i < weight.length; i += 2) weight[i] = 0;
    down.setWeight(weight);
    pruned.release(2);
    expect(pruned.isModified(2)).toBe(true);

    // The released block was written to a spill file and dropped: the next use reads a new copy.
    const reread = await pruned.block(2);
    expect(reread.weights).not.toBe(block.weights);
    expect(Array.from(reread.weights.linears.get('mlp.down_proj')!.weight)).toEqual(Array.from(weight));
    expect(Array.from(reread.weights.linears.get('mlp.up_proj')!.weight)).toEqual(Array.from(block.weights.linears.get('mlp.up_proj')!.weight));
    pruned.release(2);

    const out = join(folder, 'pruned.bin');
    await pruned.save(out);
    expect((await stat(out)).size).toBe((await stat(storiesModel)).size);
    const reloaded = await loadModel(out);
    const reloadedDown = (await reloaded.block(2)).weights.linears.get('mlp.down_proj')!.weight;
    expect(Array.from(reloadedDown)).toEqual(Array.from(weight));
    const untouched = (await reloaded.block(1)).weights.linears.get('mlp.down_proj')!.weight;
    expect(Array.from(untouched)).toEqual(Array.from((await model.block(1)).weights.linears.get('mlp.down_proj')!.weight));
    await Promise.all([pruned.close(), reloaded.close()]);
  });

  it('save rejects overwriting without force', async () => {
    await expect(model.save(storiesModel)).rejects.toBeInstanceOf(UsageError);
    const out = join(folder, 'exists.bin');
    await writeFile(out, 'x');
    await expect(saveLlama2c(model, out)).rejects.toThrow(/already exists/);
    await saveLlama2c(model, out, { force: true });
    expect((await stat(out)).size).toBe((await stat(storiesModel)).size);
  });

  it('rejects truncated checkpoint', async () => {
    const bytes = await readFile(storiesModel);
    const path = join(folder, 'truncated.bin');
    await writeFile(path, bytes.subarray(0, bytes.length - 100));
    await expect(loadLlama2c(path)).rejects.toThrow(/implies 1056540 bytes but the file has 1056440; the file is truncated/);
  });

  it('rejects header that lies about sizes', async () => {
    const bytes = Buffer.from(await readFile(storiesModel));
    bytes.writeInt32LE(6, 8);
    const path = join(folder, 'lying.bin');
    await writeFile(path, bytes);
    const error = await loadLlama2c(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/n_layers 6/);
  });

  it('rejects non-positive header field', async () => {
    const bytes = Buffer.from(await readFile(storiesModel));
    bytes.writeInt32LE(0, 12);
    const path = join(folder, 'zero-heads.bin');
    await writeFile(path, bytes);
    await expect(loadLlama2c(path)).rejects.toThrow(/n_heads = 0 must be positive/);
  });
});
