/**
 * CLI behaviour found in a new-user trial: required options from --config,
 * calibration replay without repeating flags, tokenizers that travel with
 * converted models, the convert progress count and dataset lists in errors.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LogRecord } from '@sculpt/core';
import { tokenizerPathForModel } from '@sculpt/datasets';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { restoreOutput, runMain } from './capture-main.js';

const shared = resolve(import.meta.dirname, '../../..', '../shared/data');
const modelFile = join(shared, 'models/stories260K/stories260K.bin');
const tokenizerFile = join(shared, 'models/stories260K/tok512.bin');
const storiesFile = join(shared, 'tinystories/TinyStoriesV2-GPT4-train.sample.txt');

const dir = mkdtempSync(join(tmpdir(), 'sculpt-usability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(restoreOutput);

function messages(logs: LogRecord[], level: string): string[] {
  return logs.filter((record) => record.level === level).map((record) => record.message);
}

function writeJson(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('required options from --config', () => {
  it('accepts values from a command section', async () => {
    const out = join(dir, 'config-hf');
    const config = writeJson('convert.json', { convert: { model: modelFile, to: 'hf', out } });
    const result = await runMain('--config', config, '--json', 'convert');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
  });

  it('names the option and the file when missing', async () => {
    const config = writeJson('partial.json', { convert: { to: 'hf' } });
    const result = await runMain('--config', config, 'convert', '--out', join(dir, 'never'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '--model <path>' not specified");
    expect(result.stderr).toContain(config);
  });

  it('still rejects a missing option without a file', async () => {
    const result = await runMain('convert', '--model', modelFile, '--out', join(dir, 'never'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '--to <format>' not specified");
  });
});

describe('convert', () => {
  it('counts the converted model in its progress', () => {
    // Progress is silent under vitest, so this runs the real binary in a child process without that marker.
    const environment = { ...process.env };
    delete environment.VITEST;
    delete environment.CI;
    const binary = resolve(import.meta.dirname, '../bin/sculpt.js');
    const result = spawnSync(process.execPath, [binary, '--log-level', 'info', 'convert', '--model', modelFile, '--to', 'hf', '--out', join(dir, 'progress-hf')], {
      env: environment,
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    const progress = result.stderr.split('\n').filter((line) => line.includes('convert to hf:'));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatch(/convert to hf: 1\/1 models \(done/);
    expect(result.stderr).not.toContain('0/1 models');
  });

  it('copies the llama2.c tokenizer into a Hugging Face folder', async () => {
    const out = join(dir, 'with-tokenizer-hf');
    expect((await runMain('convert', '--model', modelFile, '--to', 'hf', '--out', out)).code).toBe(0);
    expect(readFileSync(join(out, 'tok512.bin'))).toEqual(readFileSync(tokenizerFile));

    const generated = await runMain('--json', 'generate', '--model', out, '--prompt', 'Once upon a time', '--greedy', '--max-new-tokens', '8');
    expect(generated.stderr).toBe('');
    expect(generated.code).toBe(0);
    const reference = await runMain('--json', 'generate', '--model', modelFile, '--prompt', 'Once upon a time', '--greedy', '--max-new-tokens', '8');
    expect(JSON.parse(generated.stdout).text).toBe(JSON.parse(reference.stdout).text);
  });

  it('copies the llama2.c tokenizer beside an ONNX file', async () => {
    const out = join(dir, 'onnx', 'stories.onnx');
    expect((await runMain('convert', '--model', modelFile, '--to', 'onnx', '--out', out)).code).toBe(0);
    expect(await tokenizerPathForModel(out)).toBe(join(dir, 'onnx', 'tok512.bin'));

    const generated = await runMain('--json', 'generate', '--model', out, '--prompt', 'Once', '--greedy', '--max-new-tokens', '4');
    expect(generated.stderr).toBe('');
    expect(generated.code).toBe(0);
  });
});

describe('calibrate --replay', () => {
  const original = join(dir, 'original.json');

  async function sample(): Promise<void> {
    if (existsSync(original)) return;
    const args = ['calibrate', '--dataset', 'tinystories', '--data', storiesFile, '--model', modelFile, '--seqlen', '64', '--nsamples', '3', '--out', original];
    const result = await runMain(...args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }

  it('takes the model and seqlen from the file', async () => {
    await sample();
    const replayed = join(dir, 'replayed.json');
    const result = await runMain('--log-level', 'warn', 'calibrate', '--replay', original, '--data', storiesFile, '--out', replayed);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(messages(result.logs, 'warn')).toEqual([]);
    const before = JSON.parse(readFileSync(original, 'utf8'));
    const after = JSON.parse(readFileSync(replayed, 'utf8'));
    expect(after.seqlen).toBe(64);
    expect(after.samples).toEqual(before.samples);
    expect(after.config.model).toBe(modelFile);
  });

  it('warns when an explicit seqlen differs', async () => {
    await sample();
    const replayed = join(dir, 'replayed-32.json');
    const result = await runMain('--log-level', 'warn', 'calibrate', '--replay', original, '--data', storiesFile, '--seqlen', '32', '--out', replayed);
    expect(result.code).toBe(0);
    expect(messages(result.logs, 'warn').join('\n')).toContain('--seqlen 32 overrides 64');
    expect(JSON.parse(readFileSync(replayed, 'utf8')).seqlen).toBe(32);
  });

  it('finds the tokenizer beside an older file', async () => {
    await sample();
    // Files written before the model and tokenizer paths were recorded name only the tokenizer file.
    const folder = mkdtempSync(join(dir, 'old-'));
    const body = JSON.parse(readFileSync(original, 'utf8'));
    delete body.config.model;
    delete body.config.tokenizer_file;
    const old = join(folder, 'old.json');
    writeFileSync(old, JSON.stringify(body));

    const missing = await runMain('calibrate', '--replay', old, '--data', storiesFile, '--out', join(folder, 'never.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot find the tokenizer');
    expect(missing.stderr).toContain('tok512.bin');

    copyFileSync(tokenizerFile, join(folder, 'tok512.bin'));
    const replayed = join(folder, 'replayed.json');
    expect((await runMain('calibrate', '--replay', old, '--data', storiesFile, '--out', replayed)).code).toBe(0);
    expect(JSON.parse(readFileSync(replayed, 'utf8')).samples).toEqual(body.samples);
  });
});

describe('dataset lists in errors', () => {
  it('lists only calibration datasets for calibrate', async () => {
    const result = await runMain('calibrate', '--dataset', 'nosuch', '--tokenizer', tokenizerFile, '--out', join(dir, 'never.json'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown dataset "nosuch". Calibration datasets:');
    expect(result.stderr).toContain('tinystories');
    for (const code of ['apps', 'mbpp', 'humaneval', 'code-contests', 'generated-stdin']) expect(result.stderr).not.toContain(code);
  });

  it('lists only calibration datasets for prune', async () => {
    const result = await runMain('prune', '--model', modelFile, '--method', 'wanda', '--sparsity', '0.5', '--calibration', 'nosuch', '--seqlen', '64', '--nsamples', '1', '--out', join(dir, 'never.bin'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown dataset "nosuch". Calibration datasets:');
    expect(result.stderr).not.toContain('generated-stdin');
  });

  it('lists only code datasets for chaincoder', async () => {
    const result = await runMain('chaincoder', 'problems', '--data', 'nosuch', '--out', join(dir, 'never.jsonl'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown dataset "nosuch". Code datasets:');
    expect(result.stderr).toContain('generated-stdin');
    expect(result.stderr).not.toContain('tinystories');
  });

  it('names a calibration dataset given to chaincoder', async () => {
    const result = await runMain('chaincoder', 'problems', '--data', 'c4', '--out', join(dir, 'never.jsonl'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Dataset "c4" is not a code dataset');
  });
});
