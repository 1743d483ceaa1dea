/**
 * `sculpt chaincoder train --description-onnx FILE --description-tokenizer
 * FILE` as a user runs it: real CLI processes with a tiny ONNX text encoder
 * on a real onnxruntime session. Training lowers the loss, the checkpoint
 * records both files with their SHA-256, a resumed run ends on the same
 * weights as a straight one, and a changed encoder file is rejected on
 * resume and in generation.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '@sculpt/runtime-gpu';
import { sculpt, sculptJson } from '../fixtures/cli.js';
import { HIDDEN, encoderGraph, tokenizerJson } from '../model/tiny-text-encoder.js';

const STEPS = 6;

const DATA = ['--data', 'generated-stdin', '--set', 'count=40'];
const TINY = ['--dim', '16', '--heads', '2', '--hidden-dim', '32', '--sample-layers', '1', '--encoder-layers', '1', '--decoder-layers', '1', '--max-target-length', '400'];
const TRAIN = [...DATA, ...TINY, '--batch-size', '4', '--lr', '5e-3', '--warmup', '2', '--checkpoint-every', '2', '--validate-every', '2'];

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface SavedState {
  step: number;
  config: { descriptionEncoder?: { kind: string; hidden: number; modelSha256: string; tokenizerSha256: string; maxLength: number }; descriptionPooling?: string };
  descriptionEncoder?: { model: string; modelSha256: string; tokenizer: string; tokenizerSha256: string };
}

async function readState(out: string): Promise<SavedState> {
  return JSON.parse(await readFile(join(out, 'checkpoint/state.json'), 'utf8')) as SavedState;
}

describe('chaincoder train with an ONNX description encoder', () => {
  let dir: string;
  let encoder: string;
  let tokenizer: string;
  let otherEncoder: string;
  let straight: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chaincoder-onnx-cli-'));
    encoder = join(dir, 'encoder.onnx');
    tokenizer = join(dir, 'tokenizer.json');
    otherEncoder = join(dir, 'other.onnx');
    await writeFile(encoder, encoderGraph());
    await writeFile(tokenizer, JSON.stringify(tokenizerJson()));
    // Same inputs and output but other weights, so only the SHA-256 distinguishes the two files.
    await writeFile(otherEncoder, encoderGraph({ tokenTypes: true }));
    straight = join(dir, 'straight');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains and records the encoder', async () => {
    const report = sculptJson(['chaincoder', 'train', ...TRAIN, '--steps', String(STEPS), '--out', straight, '--description-onnx', encoder, '--description-tokenizer', tokenizer]);
    expect(report.steps).toBe(STEPS);
    expect(report.lastLoss as number).toBeLessThan(report.firstLoss as number);

    const state = await readState(straight);
    expect(state.config.descriptionEncoder).toEqual({
      kind: 'onnx',
      hidden: HIDDEN,
      modelSha256: sha256(await readFile(encoder)),
      tokenizerSha256: sha256(await readFile(tokenizer)),
      maxLength: 512,
    });
    expect(state.descriptionEncoder).toEqual({
      model: encoder,
      modelSha256: sha256(await readFile(encoder)),
      tokenizer,
      tokenizerSha256: sha256(await readFile(tokenizer)),
    });

    // The projection replaces the trainable description stack in the weights.
    const weights = await SafetensorsFile.open(join(straight, 'checkpoint/weights.safetensors'));
    try {
      expect(weights.names).toContain('description_projection.weight');
      expect(weights.names.filter((name) => /^description_(embed|position|norm|blocks)/u.test(name))).toEqual([]);
      expect((await weights.readFloat32('description_projection.weight')).length).toBe(16 * HIDDEN);
    } finally {
      await weights.close();
    }
  }, 120_000);

  it('resumes bit for bit from recorded paths', async () => {
    // Its own copy of the encoder, so that the copy can be changed afterwards.
    const copy = join(dir, 'copy.onnx');
    await copyFile(encoder, copy);
    const resumed = join(dir, 'resumed');
    sculptJson(['chaincoder', 'train', ...TRAIN, '--steps', '2', '--out', resumed, '--description-onnx', copy, '--description-tokenizer', tokenizer]);
    expect((await readState(resumed)).step).toBe(2);

    // No encoder flags: the paths come from the checkpoint.
    const report = sculptJson(['chaincoder', 'train', ...TRAIN, '--steps', String(STEPS), '--out', resumed, '--resume']);
    expect(report.resumedFromStep).toBe(2);
    expect(report.steps).toBe(STEPS);
    const [resumedWeights, straightWeights] = await Promise.all([readFile(join(resumed, 'checkpoint/weights.safetensors')), readFile(join(straight, 'checkpoint/weights.safetensors'))]);
    expect(resumedWeights.equals(straightWeights)).toBe(true);
    const [resumedMoments, straightMoments] = await Promise.all([readFile(join(resumed, 'checkpoint/optimizer.safetensors')), readFile(join(straight, 'checkpoint/optimizer.safetensors'))]);
    expect(resumedMoments.equals(straightMoments)).toBe(true);

    // The recorded file changes: resuming stops with its path and the expected hash.
    const expected = sha256(await readFile(encoder));
    await copyFile(otherEncoder, copy);
    const changed = sculpt(['chaincoder', 'train', ...TRAIN, '--steps', String(STEPS + 2), '--out', resumed, '--resume']);
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain(copy);
    expect(changed.stderr).toContain(expected);

    // A file given again in its place must have the recorded hash as well.
    const replacement = sculpt(['chaincoder', 'train', ...TRAIN, '--steps', String(STEPS + 2), '--out', resumed, '--resume', '--description-onnx', otherEncoder]);
    expect(replacement.status).toBe(1);
    expect(replacement.stderr).toContain(otherEncoder);
    expect(replacement.stderr).toContain(expected);
    expect((await readState(resumed)).step).toBe(STEPS);
  }, 240_000);

  it('generates and evaluates from the checkpoint', async () => {
    const problems = join(dir, 'problems.jsonl');
    sculptJson(['chaincoder', 'problems', ...DATA, '--split', 'test', '--out', problems]);

    const generated = sculptJson(['chaincoder', 'generate', '--model', straight, '--problem', problems, '--n', '2', '--decoder', 'sample', '--max-new-tokens', '32']);
    const results = generated.results as { problem: string; programs: (string | null)[] }[];
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) expect(result.programs).toHaveLength(2);

    const report = sculptJson(['chaincoder', 'eval', '--model', straight, ...DATA, '--split', 'test', '--limit', '2', '--n', '1', '--k', '1', '--decoder', 'greedy', '--max-new-tokens', '32']);
    expect(report.problems).toBe(2);
    expect(report.samplesPerProblem).toBe(1);

    const rejected = sculpt(['chaincoder', 'generate', '--model', straight, '--problem', problems, '--max-new-tokens', '8', '--description-onnx', otherEncoder]);
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toContain(otherEncoder);
    expect(rejected.stderr).toContain(sha256(await readFile(encoder)));
  }, 180_000);

  it('rejects incomplete encoder flags', () => {
    const result = sculpt(['chaincoder', 'train', ...TRAIN, '--steps', '1', '--out', join(dir, 'half'), '--description-onnx', encoder]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--description-tokenizer');
  });
});
