/** `sculpt calibrate` run as a user runs it: the real binary, real files, the real stories260K tokenizer. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sharedData = resolve(repoRoot, '../shared/data');
const model = join(sharedData, 'models/stories260K/stories260K.bin');
const tokenizer = join(sharedData, 'models/stories260K/tok512.bin');
const bin = join(repoRoot, 'tools/cli/bin/sculpt.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sculpt(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      // Offline: the hub fallback must never leave this machine in tests.
      { cwd: repoRoot, env: { ...process.env, HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9', SCULPT_DATA_DIR: '' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sculpt-calibrate-e2e-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each test starts the CLI one to three times; on a busy two-core machine a start takes several seconds.
describe('sculpt calibrate', { timeout: 240_000 }, () => {
  it('writes a deterministic calibration file', async () => {
    const common = ['calibrate', '--dataset', 'gsm8k', '--split', 'test', '--data-dir', sharedData, '--model', model, '--format', 'icl', '--nsamples', '4', '--seqlen', '128'];
    const first = await sculpt([...common, '--seed', '3', '--out', join(dir, 'a.json'), '--json']);
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as { samples: number; seqlen: number; tokenizer: { kind: string; vocabSize: number } };
    expect(summary.samples).toBe(4);
    expect(summary.tokenizer).toMatchObject({ kind: 'llama2c', vocabSize: 512 });

    const again = await sculpt([...common, '--seed', '3', '--out', join(dir, 'b.json')]);
    const other = await sculpt([...common, '--seed', '4', '--out', join(dir, 'c.json')]);
    expect(again.code, again.stderr).toBe(0);
    expect(other.code, other.stderr).toBe(0);
    const a = await readFile(join(dir, 'a.json'));
    expect((await readFile(join(dir, 'b.json'))).equals(a)).toBe(true);
    expect((await readFile(join(dir, 'c.json'))).equals(a)).toBe(false);

    const file = JSON.parse(a.toString('utf8')) as {
      seqlen: number;
      samples: number[][];
      attention_mask?: unknown;
      provenance: { records: { file: string }[] }[];
      tokenizer: { path: string };
      config: { seed: number };
    };
    expect(file.seqlen).toBe(128);
    expect(file.samples).toHaveLength(4);
    expect(file.samples.every((sample) => sample.length === 128)).toBe(true);
    expect(file.attention_mask).toBeUndefined();
    expect(file.provenance[0].records[0].file).toBe('gsm8k/test.sample.jsonl');
    expect(file.tokenizer.path).toBe('tok512.bin');
    expect(file.config.seed).toBe(3);
  });

  it('mixes datasets and writes masks for padded formats', async () => {
    const out = join(dir, 'mix.json');
    const run = await sculpt([
      'calibrate', '--dataset', 'esnli:test,tinystories', '--data-dir', sharedData, '--tokenizer', tokenizer,
      '--format', 'zero', '--nsamples', '4', '--seqlen', '96', '--out', out, '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { datasets: unknown };
    expect(summary.datasets).toEqual([
      { dataset: 'esnli', split: 'test', format: 'zero', nsamples: 2, sources: ['esnli/esnli_test.hf.sample.jsonl'] },
      { dataset: 'tinystories', split: 'train', format: 'window', nsamples: 2, sources: ['tinystories/TinyStoriesV2-GPT4-train.sample.txt'] },
    ]);
    const file = JSON.parse(await readFile(out, 'utf8')) as { attention_mask: number[][]; samples: number[][]; provenance: { dataset: string }[] };
    expect(file.samples).toHaveLength(4);
    expect(file.provenance.map((entry) => entry.dataset)).toEqual(['esnli', 'esnli', 'tinystories', 'tinystories']);
    expect(file.attention_mask[0][0]).toBe(0);
    expect(file.attention_mask[0][95]).toBe(1);
    expect(file.attention_mask[3].every((bit) => bit === 1)).toBe(true);
  });

  it('names the splits present when one is missing', async () => {
    const run = await sculpt([
      'calibrate', '--dataset', 'tinystories', '--data-dir', sharedData, '--split', 'test', '--tokenizer', tokenizer,
      '--nsamples', '2', '--seqlen', '96', '--out', join(dir, 'x.json'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no tinystories files for split "test"');
    expect(run.stderr).toContain('local splits present: train');
  });

  it('replays a file byte for byte', async () => {
    const original = join(dir, 'original.json');
    const replayed = join(dir, 'replayed.json');
    const made = await sculpt([
      'calibrate', '--dataset', 'gsm8k:test,c4', '--data-dir', sharedData, '--tokenizer', tokenizer,
      '--format', 'single', '--nsamples', '4', '--seqlen', '300', '--seed', '9', '--out', original,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const again = await sculpt(['calibrate', '--replay', original, '--data-dir', sharedData, '--tokenizer', tokenizer, '--out', replayed]);
    expect(again.code, again.stderr).toBe(0);
    expect((await readFile(replayed)).equals(await readFile(original))).toBe(true);

    // A vocabulary with one changed merge score is another tokenizer.
    const bytes = await readFile(tokenizer);
    bytes.writeFloatLE(bytes.readFloatLE(4) + 1, 4);
    const changed = join(dir, 'tok-changed.bin');
    await writeFile(changed, bytes);
    const otherTokenizer = await sculpt(['calibrate', '--replay', original, '--data-dir', sharedData, '--tokenizer', changed, '--out', replayed]);
    expect(otherTokenizer.code).toBe(2);
    expect(otherTokenizer.stderr).toContain(`${original} was made with tokenizer tok512.bin (sha256 `);
  });

  it('lists the known datasets for an unknown name', async () => {
    const run = await sculpt(['calibrate', '--dataset', 'c5', '--tokenizer', tokenizer, '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('c5');
    for (const name of ['c4', 'gsm8k', 'winogrande', 'custom']) expect(run.stderr).toContain(name);
  });

  it('rejects a program-synthesis dataset', async () => {
    const run = await sculpt(['calibrate', '--dataset', 'mbpp', '--data-dir', sharedData, '--tokenizer', tokenizer, '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('dataset "mbpp" does not produce calibration text');
  });

  it('rejects a format the dataset lacks', async () => {
    const run = await sculpt(['calibrate', '--dataset', 'race', '--data-dir', sharedData, '--split', 'validation', '--tokenizer', tokenizer, '--format', 'cot', '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('dataset "race" does not support format "cot"; supported formats: single, icl');
  });

  it('rejects seqlen beyond the model context', async () => {
    const run = await sculpt(['calibrate', '--dataset', 'c4', '--data-dir', sharedData, '--model', model, '--seqlen', '2048', '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--seqlen 2048 is larger than the model's context length 512");
    await expect(stat(join(dir, 'x.json'))).rejects.toThrow();
  });

  it('reports a data file that does not exist', async () => {
    const missing = join(dir, 'nowhere', 'train.jsonl');
    const run = await sculpt(['calibrate', '--dataset', 'gsm8k', '--data', missing, '--tokenizer', tokenizer, '--nsamples', '1', '--seqlen', '64', '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${missing}: file not found`);
  });

  it('needs a tokenizer or a model', async () => {
    const run = await sculpt(['calibrate', '--dataset', 'c4', '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pass exactly one of --tokenizer PATH or --model PATH');
  });

  it('rejects a non-numeric sample count', async () => {
    const run = await sculpt(['calibrate', '--dataset', 'c4', '--tokenizer', tokenizer, '--nsamples', 'many', '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--nsamples must be a positive integer, got "many"');
  });
});
