import { mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@sculpt/core';
import { HuggingFaceTokenizer, Llama2cTokenizer, loadTokenizer, loadTokenizerForModel, tokenizerPathForModel } from '../src/index.js';
import { sharedData, stories260KPath, tok512Path } from './paths.js';

/**
 * An independent reading of tok*.bin and of run.c's encoder, written the
 * plain quadratic way: rescan every adjacent pair after each merge.
 */
async function referenceEncode(text: string): Promise<number[]> {
  const raw = await readFile(tok512Path);
  const vocab: string[] = [];
  const scores: number[] = [];
  let at = 4;
  while (at < raw.length) {
    scores.push(raw.readFloatLE(at));
    const length = raw.readInt32LE(at + 4);
    vocab.push(raw.subarray(at + 8, at + 8 + length).toString('latin1'));
    at += 8 + length;
  }
  const ids = new Map<string, number>();
  vocab.forEach((piece, id) => {
    if (!ids.has(piece)) ids.set(piece, id);
  });
  const lookup = (piece: string) => ids.get(piece) ?? -1;

  const tokens: number[] = [lookup(' ')];
  for (const char of text) {
    const bytes = Buffer.from(char, 'utf8').toString('latin1');
    const id = lookup(bytes);
    if (id >= 0) tokens.push(id);
    else for (const byte of Buffer.from(char, 'utf8')) tokens.push(byte + 3);
  }

  for (;;) {
    let bestScore = -Infinity;
    let bestAt = -1;
    let bestId = -1;
    for (let i = 0; i + 1 < tokens.length; i++) {
      const id = lookup(vocab[tokens[i]] + vocab[tokens[i + 1]]);
      if (id >= 0 && scores[id] > bestScore) {
        bestScore = scores[id];
        bestAt = i;
        bestId = id;
      }
    }
    if (bestAt < 0) break;
    tokens.splice(bestAt, 2, bestId);
  }
  return [1, ...tokens];
}

const STORY =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.\n' +
  "Lily's mom said, \"Lily, let's go to the park.\"";

describe('Llama2cTokenizer', () => {
  let tokenizer: Llama2cTokenizer;
  beforeAll(async () => {
    tokenizer = await Llama2cTokenizer.fromFile(tok512Path);
  });

  it('reads the stories260K vocabulary', () => {
    expect(tokenizer.vocabSize).toBe(512);
    expect(tokenizer.maxTokenLength).toBe(7);
    expect(tokenizer.piece(0)).toBe('<unk>');
    expect(tokenizer.piece(1)).toBe('\n<s>\n');
    expect(tokenizer.piece(2)).toBe('\n</s>\n');
    expect(tokenizer.piece(3)).toBe('<0x00>');
    expect(tokenizer.piece(258)).toBe('<0xFF>');
    expect(tokenizer.piece(259)).toBe(' t');
    expect(tokenizer.identity.sha256.startsWith('037cb335abb25d1f')).toBe(true);
  });

  it('matches the quadratic reference encoder', async () => {
    for (const text of [STORY, 'a', 'The cat sat.', 'naïve café ✓ 😀', '  two  spaces\n\nand lines', 'xyzzy qqq']) {
      expect(tokenizer.encode(text)).toEqual(await referenceEncode(text));
    }
  });

  it('matches the reference on whole documents', async () => {
    const lines = (await readFile(join(sharedData, 'c4/c4-en-train.00000-of-01024.sample.json'), 'utf8')).split('\n').slice(0, 6);
    for (const line of lines) {
      const text = (JSON.parse(line) as { text: string }).text.slice(0, 3000);
      expect(tokenizer.encode(text)).toEqual(await referenceEncode(text));
    }
  });

  it('merges the dummy prefix into the first word', () => {
    const ids = tokenizer.encode('Once');
    expect(ids[0]).toBe(1);
    expect(ids.slice(1).map((id) => tokenizer.piece(id)).join('')).toBe(' Once');
    expect(tokenizer.piece(ids[1]).startsWith(' ')).toBe(true);
  });

  it('falls back to byte tokens', () => {
    const ids = tokenizer.encode('😀', { bos: false });
    const pieces = ids.map((id) => tokenizer.piece(id));
    expect(pieces).toContain('<0xF0>');
    expect(ids.filter((id) => id >= 3 && id <= 258)).toHaveLength(4);
  });

  it('handles BOS, EOS and empty text', () => {
    expect(tokenizer.encode('')).toEqual([1]);
    expect(tokenizer.encode('', { bos: false })).toEqual([]);
    expect(tokenizer.encode('', { bos: false, eos: true })).toEqual([2]);
    expect(tokenizer.encode('hi', { eos: true }).at(-1)).toBe(2);
  });

  it('decodes back to the text', () => {
    for (const text of [STORY, 'naïve café ✓ 😀', 'x']) {
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    }
  });

  it('keeps the leading space without BOS', () => {
    expect(tokenizer.decode(tokenizer.encode('Once', { bos: false }))).toBe(' Once');
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tokenizer.decode([1, 512])).toThrow(/512.*outside the vocabulary \[0, 512\)/);
  });
});

describe('tokenizer files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sculpt-tok-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a truncated llama2.c file', async () => {
    const bytes = await readFile(tok512Path);
    const path = join(dir, 'tok-cut.bin');
    await writeFile(path, bytes.subarray(0, 3001));
    await expect(Llama2cTokenizer.fromFile(path)).rejects.toThrow(/tok-cut\.bin.*(truncated|invalid byte length)/);
  });

  it('rejects a non-tokenizer header', async () => {
    const path = join(dir, 'tok-bad.bin');
    await writeFile(path, Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]));
    await expect(loadTokenizer(path)).rejects.toThrow(/invalid max token length/);
  });

  it('reports a missing file by path', async () => {
    const path = join(dir, 'missing', 'tok.bin');
    const error = await loadTokenizer(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect(String(error)).toContain(path);
    expect(String(error)).toContain('not found');
  });

  it('finds tok512.bin beside the llama2.c model', async () => {
    expect(await tokenizerPathForModel(stories260KPath)).toBe(tok512Path);
    const tokenizer = await loadTokenizerForModel(stories260KPath);
    expect(tokenizer.vocabSize).toBe(512);
  });

  describe('Hugging Face tokenizer.json', () => {
    const tokenizerJson = {
      version: '1.0',
      added_tokens: [
        { id: 0, content: '<unk>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
        { id: 1, content: '<s>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
        { id: 2, content: '</s>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
      ],
      normalizer: null,
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: {
        type: 'BPE',
        unk_token: '<unk>',
        vocab: { '<unk>': 0, '<s>': 1, '</s>': 2, h: 3, e: 4, l: 5, o: 6, he: 7, ll: 8, hell: 9, hello: 10, w: 11, r: 12, d: 13 },
        merges: ['h e', 'l l', 'he ll', 'hell o'],
      },
    };

    it('encodes with BOS and EOS added by sculpt', async () => {
      const folder = join(dir, 'hf');
      await import('node:fs/promises').then((fs) => fs.mkdir(folder, { recursive: true }));
      await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(tokenizerJson));
      const tokenizer = await loadTokenizer(folder);
      expect(tokenizer).toBeInstanceOf(HuggingFaceTokenizer);
      expect(tokenizer.encode('hello world')).toEqual([1, 10, 11, 6, 12, 5, 13]);
      expect(tokenizer.encode('hello', { bos: false, eos: true })).toEqual([10, 2]);
      expect(tokenizer.bosId).toBe(1);
      expect(tokenizer.eosId).toBe(2);
      expect(tokenizer.padId).toBe(0);
      expect(tokenizer.vocabSize).toBe(14);
      expect(tokenizer.identity.kind).toBe('huggingface');
    });

    it('takes special tokens from tokenizer_config.json', async () => {
      const folder = join(dir, 'hf-config');
      await import('node:fs/promises').then((fs) => fs.mkdir(folder, { recursive: true }));
      await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(tokenizerJson));
      await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify({ bos_token: '</s>', pad_token: { content: '<s>' } }));
      const tokenizer = await loadTokenizerForModel(folder);
      expect(tokenizer.bosId).toBe(2);
      expect(tokenizer.padId).toBe(1);
    });

    it('rejects a JSON file without a model', async () => {
      const path = join(dir, 'not-a-tokenizer.json');
      await writeFile(path, '{"vocab": {}}');
      await expect(loadTokenizer(path)).rejects.toThrow(/not-a-tokenizer\.json.*no "model" entry/);
    });

    it('rejects a model folder without a tokenizer', async () => {
      const folder = join(dir, 'empty-model');
      await import('node:fs/promises').then((fs) => fs.mkdir(folder, { recursive: true }));
      await copyFile(tok512Path, join(folder, 'weights.safetensors'));
      await expect(loadTokenizerForModel(folder)).rejects.toThrow(/no tokenizer\.json, tokenizer\.bin or tok\*\.bin/);
    });
  });
});
