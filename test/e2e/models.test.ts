/**
 * The model commands as a user runs them: `sculpt generate`, `sculpt convert`
 * and `sculpt eval ppl` in a child process on the real stories260K model and
 * the shared TinyStories and WikiText samples.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sharedData = resolve(repoRoot, '../shared/data');
const model = join(sharedData, 'models/stories260K/stories260K.bin');
const tokenizer = join(sharedData, 'models/stories260K/tok512.bin');
const tinyStories = join(sharedData, 'tinystories/TinyStoriesV2-GPT4-train.sample.txt');
const wikiText = join(sharedData, 'wikitext-2/wikitext-2-valid.sample.txt');
const bin = join(repoRoot, 'tools/cli/bin/sculpt.js');

/** The text llama2.c's `run stories260K.bin -z tok512.bin -t 0.0` prints (karpathy's llama2.c docs). */
const REFERENCE =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. ' +
  'She wanted to play with it, but it was too high.\n' +
  'Lily\'s mom said, "Lily, let\'s go to the park." Lily was sad and didn\'t know what to do. She said, "I want to play with your ball, but I can\'t find it."\n' +
  'Lily was sad and didn\'t know what to do. She said, "I\'m sorry, Lily. I didn\'t know what to do."\n' +
  'Lily didn\'t want to help her mom, so she said, "I\'m sorry, mom. I didn\'t know what to do." Her mom said, "Don\'t worry, Lily. We can help you."';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sculpt(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      // --device cpu skips the WebGPU adapter probe, which only costs start-up time here.
      [bin, '--log-level', 'warn', '--device', 'cpu', ...args],
      { cwd: repoRoot, env: { ...process.env, HF_HUB_OFFLINE: '1' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function json(args: string[]): Promise<Record<string, unknown>> {
  const run = await sculpt([...args, '--json']);
  if (run.code !== 0) throw new Error(`sculpt ${args.join(' ')} exited with ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sculpt-models-e2e-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sculpt generate', () => {
  it('greedy stories260K matches llama2.c', async () => {
    const result = await json(['generate', '--model', model, '--greedy', '--max-new-tokens', '511']);
    expect(String(result.text).startsWith(REFERENCE)).toBe(true);
    expect(result.finishReason).toBe('stop');
  });

  it('sampling repeats with a seed', async () => {
    const args = ['generate', '--model', model, '--prompt', 'Tom had a dog', '--max-new-tokens', '30', '--temperature', '0.8', '--top-k', '20', '--top-p', '0.9', '--seed', '3'];
    const first = await json(args);
    expect((await json(args)).tokens).toEqual(first.tokens);
  });

  it('rejects invalid top-p', async () => {
    const run = await sculpt(['generate', '--model', model, '--top-p', '1.5']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--top-p must be a number in \(0, 1\], got "1\.5"/);
  });

  it('rejects mismatched tokenizer vocabulary', async () => {
    // A 40-token Llama checkpoint with the 512-token stories tokenizer.
    const folder = join(dir, 'tiny-vocab');
    await mkdir(folder, { recursive: true });
    const config = { architectures: ['LlamaForCausalLM'], hidden_size: 8, intermediate_size: 8, num_attention_heads: 2, num_hidden_layers: 1, vocab_size: 40, max_position_embeddings: 16, tie_word_embeddings: true };
    await writeFile(join(folder, 'config.json'), JSON.stringify(config));
    const tensors: [string, number[]][] = [
      ['model.embed_tokens.weight', [40, 8]],
      ['model.layers.0.input_layernorm.weight', [8]],
      ['model.layers.0.self_attn.q_proj.weight', [8, 8]],
      ['model.layers.0.self_attn.k_proj.weight', [8, 8]],
      ['model.layers.0.self_attn.v_proj.weight', [8, 8]],
      ['model.layers.0.self_attn.o_proj.weight', [8, 8]],
      ['model.layers.0.post_attention_layernorm.weight', [8]],
      ['model.layers.0.mlp.gate_proj.weight', [8, 8]],
      ['model.layers.0.mlp.up_proj.weight', [8, 8]],
      ['model.layers.0.mlp.down_proj.weight', [8, 8]],
      ['model.norm.weight', [8]],
    ];
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const [name, shape] of tensors) {
      const bytes = shape.reduce((a, b) => a * b, 1) * 4;
      header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    const headerBytes = Buffer.from(JSON.stringify(header));
    const file = Buffer.alloc(8 + headerBytes.length + offset);
    file.writeBigUInt64LE(BigInt(headerBytes.length));
    headerBytes.copy(file, 8);
    await writeFile(join(folder, 'model.safetensors'), file);

    const run = await sculpt(['generate', '--model', folder, '--tokenizer', tokenizer, '--prompt', 'hi']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/tok512\.bin has 512 tokens but the model's vocabulary has 40/);
  });
});

describe('sculpt convert', () => {
  it('llama2.c to HF keeps greedy text', async () => {
    const out = join(dir, 'stories-hf');
    const converted = await json(['convert', '--model', model, '--to', 'hf', '--out', out]);
    expect(converted.from).toBe('llama2c');
    const original = await json(['generate', '--model', model, '--greedy', '--max-new-tokens', '60', '--prompt', 'Lily saw']);
    const fromHf = await json(['generate', '--model', out, '--tokenizer', tokenizer, '--greedy', '--max-new-tokens', '60', '--prompt', 'Lily saw']);
    expect(fromHf.tokens).toEqual(original.tokens);
  });

  it('refuses to overwrite without force', async () => {
    const out = join(dir, 'twice.onnx');
    await json(['convert', '--model', model, '--to', 'onnx', '--out', out]);
    const again = await sculpt(['convert', '--model', model, '--to', 'onnx', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; choose another path or pass --force/);
    expect((await sculpt(['convert', '--model', model, '--to', 'onnx', '--out', out, '--force'])).code).toBe(0);
  });

  it('reports missing model path', async () => {
    const run = await sculpt(['convert', '--model', join(dir, 'missing.bin'), '--to', 'llama2c', '--out', join(dir, 'x.bin')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing\.bin.*not found/);
  });
});

describe('sculpt eval ppl', () => {
  let onnx: string;
  beforeAll(async () => {
    onnx = join(dir, 'ppl', 'stories.onnx');
    await json(['convert', '--model', model, '--to', 'onnx', '--out', onnx]);
    await copyFile(tokenizer, join(dir, 'ppl', 'tok512.bin'));
  });

  const perplexity = new Map<string, number>();

  it.each([
    ['TinyStories', tinyStories, 256],
    ['WikiText', wikiText, 256],
  ])('runtime and onnxruntime agree on %s', async (name, data, seqlen) => {
    const common = ['eval', 'ppl', '--model', onnx, '--tokenizer', tokenizer, '--data', String(data), '--seqlen', String(seqlen), '--max-windows', '6'];
    const runtime = await json(common);
    const onnxruntime = await json([...common, '--engine', 'onnxruntime']);
    expect(runtime.windows).toBe(6);
    expect(Math.abs(Number(runtime.perplexity) / Number(onnxruntime.perplexity) - 1)).toBeLessThan(1e-3);
    perplexity.set(String(name), Number(runtime.perplexity));
  });

  it('TinyStories perplexity is low', () => {
    // stories260K was trained on TinyStories, so its perplexity there is far below WikiText's.
    expect(perplexity.get('TinyStories')).toBeLessThan(20);
    expect(perplexity.get('WikiText')).toBeGreaterThan(3 * perplexity.get('TinyStories')!);
  });

  it('rejects seqlen beyond model', async () => {
    const run = await sculpt(['eval', 'ppl', '--model', model, '--data', tinyStories, '--seqlen', '4096']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--seqlen must be between 2 and the model's 512 positions, got 4096/);
  });
});
