import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@sculpt/core';
import { Llama2cTokenizer, readCalibrationFile, readModelContext, writeCalibrationFile } from '../src/index.js';
import { createDataset } from './helpers.js';
import { sharedData, stories260KPath, tok512Path } from './paths.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sculpt-calfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejectionOf(path: string, options = {}): Promise<string> {
  const error = await readCalibrationFile(path, options).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(InputError);
  return String(error);
}

describe('calibration file', () => {
  it('round-trips samples, masks and provenance', async () => {
    const tokenizer = await Llama2cTokenizer.fromFile(tok512Path);
    const esnli = await createDataset('esnli', { dataDir: sharedData });
    const set = await esnli.calibration({ tokenizer, format: 'single', nsamples: 3, seqlen: 128, seed: 4, split: 'test' });
    const path = join(dir, 'set.json');
    await writeCalibrationFile(path, set, tokenizer.identity, { seed: 4 });

    const read = await readCalibrationFile(path, { maxTokenId: tokenizer.vocabSize });
    expect(read.seqlen).toBe(128);
    expect(read.samples).toEqual(set.samples);
    expect(read.attentionMask).toEqual(set.attentionMask);
    expect(read.provenance).toEqual(set.provenance);
    expect(read.tokenizer?.sha256).toBe(tokenizer.identity.sha256);
    expect(read.tokenizer?.path).toBe('tok512.bin');
    expect(read.config).toEqual({ seed: 4 });
  });

  it('accepts the minimal form', async () => {
    const path = join(dir, 'minimal.json');
    await writeFile(path, JSON.stringify({ seqlen: 2, samples: [[1, 2], [3, 4]] }));
    const read = await readCalibrationFile(path);
    expect(read.samples.map((sample) => Array.from(sample))).toEqual([[1, 2], [3, 4]]);
    expect(read.attentionMask).toBeUndefined();
  });

  it('rejects bad contents with the position', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['no-seqlen.json', { samples: [[1]] }, /"seqlen" must be a positive integer, got undefined/],
      ['short-row.json', { seqlen: 3, samples: [[1, 2, 3], [1, 2]] }, /"samples"\[1\] has 2 entries, but seqlen is 3/],
      ['bad-id.json', { seqlen: 2, samples: [[1, -4]] }, /"samples"\[0\]\[1\] is -4; expected a non-negative integer token id/],
      ['bad-mask.json', { seqlen: 2, samples: [[1, 2]], attention_mask: [[1, 2]] }, /"attention_mask"\[0\]\[1\] is 2; expected 0 or 1/],
      ['empty-samples.json', { seqlen: 2, samples: [] }, /"samples" is empty/],
    ];
    for (const [name, body, expected] of cases) {
      const path = join(dir, name);
      await writeFile(path, JSON.stringify(body));
      const message = await rejectionOf(path);
      expect(message).toContain(path);
      expect(message).toMatch(expected);
    }
  });

  it('rejects ids outside the vocabulary', async () => {
    const path = join(dir, 'big-id.json');
    await writeFile(path, JSON.stringify({ seqlen: 1, samples: [[600]] }));
    expect(await rejectionOf(path, { maxTokenId: 512 })).toMatch(/is 600; expected a token id in \[0, 512\)/);
  });

  it('reports missing, empty and malformed files', async () => {
    expect(await rejectionOf(join(dir, 'absent.json'))).toMatch(/calibration file not found; create one with "sculpt calibrate"/);
    await writeFile(join(dir, 'blank.json'), '  \n');
    expect(await rejectionOf(join(dir, 'blank.json'))).toMatch(/the calibration file is empty/);
    await writeFile(join(dir, 'broken.json'), '{"seqlen": 2,');
    expect(await rejectionOf(join(dir, 'broken.json'))).toMatch(/invalid JSON/);
  });

  it('writes atomically without leftovers', async () => {
    const tokenizer = await Llama2cTokenizer.fromFile(tok512Path);
    const ellipses = await createDataset('ellipses');
    const set = await ellipses.calibration({ tokenizer, format: 'window', nsamples: 1, seqlen: 16, seed: 0 });
    const path = join(dir, 'atomic', 'out.json');
    await writeCalibrationFile(path, set, tokenizer.identity, {});
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(join(dir, 'atomic'))).toEqual(['out.json']);
    expect(JSON.parse(await readFile(path, 'utf8')).seqlen).toBe(16);
  });
});

describe('model context length', () => {
  it('reads seq_len from the llama2.c header', async () => {
    expect(await readModelContext(stories260KPath)).toEqual({ contextLength: 512, source: stories260KPath });
  });

  it('reads max_position_embeddings from config.json', async () => {
    const folder = join(dir, 'hf-model');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'config.json'), JSON.stringify({ max_position_embeddings: 4096 }));
    expect((await readModelContext(folder)).contextLength).toBe(4096);
    await writeFile(join(folder, 'config.json'), JSON.stringify({ hidden_size: 8 }));
    await expect(readModelContext(folder)).rejects.toThrow(/no context length in config\.json/);
  });

  it('rejects a file that is not a llama2.c checkpoint', async () => {
    await expect(readModelContext(tok512Path)).rejects.toThrow(/invalid llama2\.c checkpoint header/);
  });
});
