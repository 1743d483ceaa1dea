import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@sculpt/core';
import {
  bfloat16BitsToNumber,
  encodeFloat,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  parseSafetensorsHeader,
  SafetensorsFile,
  writeSafetensors,
} from '../../src/models/index.js';

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'sculpt-safetensors-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Builds a file byte by byte: header length, JSON header, zeroed data section. */
function fileWithHeader(header: unknown, dataBytes: number, rawHeader?: string): Buffer {
  const json = Buffer.from(rawHeader ?? JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + dataBytes);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  return out;
}

describe('safetensors format', () => {
  it('reads hand-built file', async () => {
    const bytes = fileWithHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [1], data_offsets: [8, 10] } }, 10);
    const dataStart = bytes.length - 10;
    bytes.writeFloatLE(1.5, dataStart);
    bytes.writeFloatLE(-2, dataStart + 4);
    bytes.writeUInt16LE(0x3c00, dataStart + 8);
    const path = join(folder, 'hand.safetensors');
    await writeFile(path, bytes);
    const file = await SafetensorsFile.open(path);
    expect(Array.from(await file.readFloat32('a'))).toEqual([1.5, -2]);
    expect(Array.from(await file.readFloat32('b'))).toEqual([1]);
    await file.close();
  });

  it('round-trips tensors and metadata', async () => {
    const path = join(folder, 'round.safetensors');
    const values = Float32Array.from([0, 1, -1, 0.1, 65504, 1e-8]);
    await writeSafetensors(
      path,
      [
        { name: 'x', dtype: 'F32', shape: [2, 3], data: encodeFloat(values, 'F32') },
        { name: 'y', dtype: 'BF16', shape: [6], data: encodeFloat(values, 'BF16') },
      ],
      { format: 'pt' },
    );
    const bytes = await readFile(path);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const file = await SafetensorsFile.open(path);
    expect(file.header.metadata).toEqual({ format: 'pt' });
    expect(Array.from(await file.readFloat32('x'))).toEqual(Array.from(values));
    expect(file.entry('y').shape).toEqual([6]);
    await file.close();
  });

  it.each([
    ['bad JSON', undefined, '{"a": ', /not UTF-8 JSON/],
    ['array header', [], undefined, /must be an object of tensors/],
    ['unknown dtype', { a: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, undefined, /unsupported dtype "F8"/],
    ['negative dim', { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, undefined, /shape \[-1\]/],
    ['reversed offsets', { a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, undefined, /data_offsets \[4,0\]/],
    ['out of bounds', { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, undefined, /ends at data offset 16 but the data section has only 8 bytes/],
    ['size mismatch', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, undefined, /spans 8 bytes but shape \[3\] of F32 needs 12/],
    [
      'overlap',
      { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } },
      undefined,
      /"a" and "b" overlap/,
    ],
    ['metadata value', { __metadata__: { n: 1 } }, undefined, /"__metadata__\.n" must be a string/],
  ])('rejects %s', (_, header, raw, message) => {
    const json = Buffer.from(raw ?? JSON.stringify(header), 'utf8');
    expect(() => parseSafetensorsHeader(json, 8 + json.length + 8, 'x.safetensors')).toThrow(message);
    expect(() => parseSafetensorsHeader(json, 8 + json.length + 8, 'x.safetensors')).toThrow(InputError);
  });

  it('rejects oversized header length', async () => {
    const bytes = Buffer.alloc(64);
    bytes.writeBigUInt64LE(2n ** 40n, 0);
    const path = join(folder, 'huge-header.safetensors');
    await writeFile(path, bytes);
    await expect(SafetensorsFile.open(path)).rejects.toThrow(/exceeds the 104857600-byte limit/);
  });

  it('rejects header longer than file', async () => {
    const bytes = Buffer.alloc(64);
    bytes.writeBigUInt64LE(1000n, 0);
    const path = join(folder, 'short.safetensors');
    await writeFile(path, bytes);
    await expect(SafetensorsFile.open(path)).rejects.toThrow(/exceeds the 56 bytes after the length field; the file is truncated/);
  });
});

describe('16-bit floats', () => {
  it.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x3555, 0.333251953125],
    [0x7c00, Infinity],
  ])('float16 bits %d decode exactly', (bits, value) => {
    expect(float16BitsToNumber(bits)).toBe(value);
    expect(numberToFloat16Bits(value)).toBe(bits);
  });

  it('float16 rounds to nearest even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10; the even mantissa (1) wins.
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToFloat16Bits(70000)).toBe(0x7c00);
    expect(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(NaN)))).toBe(true);
  });

  it('bfloat16 rounds to nearest even', () => {
    expect(numberToBfloat16Bits(1)).toBe(0x3f80);
    expect(bfloat16BitsToNumber(0x3f80)).toBe(1);
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(numberToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(Number.isNaN(bfloat16BitsToNumber(numberToBfloat16Bits(NaN)))).toBe(true);
  });
});
