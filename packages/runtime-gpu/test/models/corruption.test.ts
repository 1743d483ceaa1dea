/**
 * Seeded random corruption of every format. Each corrupted copy must either
 * load (and then run a forward pass) or fail with an InputError that names
 * the file. Any other exception, a crash or a hang fails the test.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, Random } from '@sculpt/core';
import { exportOnnx, loadHf, loadLlama2c, loadModel, loadOnnx } from '../../src/models/index.js';
import { storiesModel, tinyHfModel, writeTinyHfModel } from './fixtures.js';

const COPIES = 200;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'sculpt-corrupt-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Returns a corrupted copy: a truncation, a run of random bytes, or a few flipped bits, biased toward the first `headerBytes`. */
function corrupt(bytes: Buffer, random: Random, headerBytes: number): Buffer {
  const copy = Buffer.from(bytes);
  const region = random.nextFloat() < 0.7 ? Math.min(headerBytes, copy.length) : copy.length;
  switch (random.int(0, 2)) {
    case 0:
      return copy.subarray(0, random.int(0, copy.length - 1));
    case 1: {
      const start = random.int(0, region - 1);
      const length = random.int(1, 8);
      for (let i = start; i < Math.min(copy.length, start + length); i++) copy[i] = random.int(0, 255);
      return copy;
    }
    default: {
      const flips = random.int(1, 4);
      for (let i = 0; i < flips; i++) {
        const index = random.int(0, region - 1);
        copy[index] ^= 1 << random.int(0, 7);
      }
      return copy;
    }
  }
}

interface Outcome {
  loaded: number;
  rejected: number;
}

async function fuzz(original: Buffer, headerBytes: number, seed: number, location: string, attempt: (bytes: Buffer) => Promise<void>): Promise<Outcome> {
  const random = new Random(seed);
  const outcome: Outcome = { loaded: 0, rejected: 0 };
  for (let copy = 0; copy < COPIES; copy++) {
    const bytes = corrupt(original, random, headerBytes);
    try {
      await attempt(bytes);
      outcome.loaded++;
    } catch (error) {
      if (!(error instanceof InputError)) {
        throw new Error(`copy ${copy} (seed ${seed}) raised ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
      }
      expect((error as Error).message).toContain(location);
      outcome.rejected++;
    }
  }
  return outcome;
}

describe('corrupted inputs', () => {
  it('llama2.c copies load or raise InputError', async () => {
    const original = await readFile(storiesModel);
    const path = join(folder, 'corrupt.bin');
    const outcome = await fuzz(original, 64, 1, path, async (bytes) => {
      await writeFile(path, bytes);
      const model = await loadLlama2c(path);
      try {
        await model.forward([1, 2]);
      } finally {
        await model.close();
      }
    });
    expect(outcome.rejected).toBeGreaterThan(COPIES / 2);
  });

  it('safetensors copies load or raise InputError', async () => {
    const source = join(folder, 'tiny-hf');
    await writeTinyHfModel(source, tinyHfModel('gpt2', 5));
    const original = await readFile(join(source, 'model.safetensors'));
    const headerBytes = 8 + Number(original.readBigUInt64LE(0));
    const target = join(folder, 'corrupt-hf');
    await cp(source, target, { recursive: true });
    const outcome = await fuzz(original, headerBytes, 2, target, async (bytes) => {
      await writeFile(join(target, 'model.safetensors'), bytes);
      const model = await loadHf(target);
      try {
        await model.forward([1, 2]);
      } finally {
        await model.close();
      }
    });
    expect(outcome.rejected).toBeGreaterThan(COPIES / 2);
  });

  it('config.json copies load or raise InputError', async () => {
    const source = join(folder, 'tiny-config');
    await writeTinyHfModel(source, tinyHfModel('opt', 6));
    const original = await readFile(join(source, 'config.json'));
    const outcome = await fuzz(original, original.length, 3, source, async (bytes) => {
      await writeFile(join(source, 'config.json'), bytes);
      const model = await loadModel(source);
      await model.close();
    });
    expect(outcome.rejected).toBeGreaterThan(COPIES / 4);
  });

  it('ONNX copies load or raise InputError', async () => {
    const source = join(folder, 'tiny-onnx-hf');
    await writeTinyHfModel(source, tinyHfModel('llama', 7));
    const model = await loadHf(source);
    const onnxPath = join(folder, 'tiny.onnx');
    await exportOnnx(model, onnxPath);
    await model.close();
    const original = await readFile(onnxPath);
    const path = join(folder, 'corrupt.onnx');
    const outcome = await fuzz(original, original.length, 4, path, async (bytes) => {
      await writeFile(path, bytes);
      const loaded = await loadOnnx(path);
      await loaded.forward([1, 2]);
    });
    expect(outcome.rejected).toBeGreaterThan(COPIES / 4);
  });
});
