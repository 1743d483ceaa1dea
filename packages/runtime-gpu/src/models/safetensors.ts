/**
 * Safetensors reader and writer.
 *
 * Layout: an 8-byte little-endian u64 header length N, an N-byte UTF-8 JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`,
 * then the data section. Offsets are relative to the start of the data section.
 *
 * The reader validates the header the way hardened readers do: a length bound,
 * the JSON shape, offsets in bounds and non-overlapping, and a byte length
 * equal to product(shape) × element size. It then reads each tensor on demand
 * by offset, so getting one block never loads a whole multi-gigabyte file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { InputError, writeFileAtomic } from '@sculpt/core';
import { bfloat16BitsToNumber, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits } from './half.js';

/** Element sizes in bytes of the safetensors dtypes this reader accepts. */
export const SAFETENSORS_DTYPE_SIZES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_SIZES;

/** Float dtypes that model weights may be stored in. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

/** Upper bound on the JSON header; real headers of 100B-parameter models stay far below it. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the first byte in the file. */
  begin: number;
  /** Absolute byte offset one past the last byte in the file. */
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Absolute offset of the data section. */
  dataStart: number;
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(SAFETENSORS_DTYPE_SIZES, value);
}

function elementCount(shape: number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/**
 * Parses and validates a header. `headerBytes` is the JSON text, `fileSize` the
 * size of the whole file; `file` only names the file in error messages.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new InputError(`invalid safetensors header: not UTF-8 JSON (${(error as Error).message}); the file is corrupted or not a safetensors file`, file);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError('invalid safetensors header: the JSON header must be an object of tensors', file);
  }

  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};

  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value, file);
      continue;
    }
    entries.set(name, parseEntry(name, value, dataStart, dataSize, file));
  }

  checkNoOverlap([...entries.values()], file);
  return { entries, metadata, dataStart };
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError('invalid safetensors header: "__metadata__" must be an object of strings', file);
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new InputError(`invalid safetensors header: "__metadata__.${key}" must be a string, got ${typeof item}`, file);
    }
  }
  return value as Record<string, string>;
}

function parseEntry(name: string, value: unknown, dataStart: number, dataSize: number, file: string): SafetensorsEntry {
  const where = `tensor "${name}"`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`invalid safetensors header: ${where} must be an object with dtype, shape and data_offsets`, file);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDtype(dtype)) {
    throw new InputError(
      `invalid safetensors header: ${where} has unsupported dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(SAFETENSORS_DTYPE_SIZES).join(', ')}`,
      file,
    );
  }
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new InputError(`invalid safetensors header: ${where} has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`, file);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw new InputError(`invalid safetensors header: ${where} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 <= begin <= end`, file);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataSize) {
    throw new InputError(
      `invalid safetensors header: ${where} ends at data offset ${end} but the data section has only ${dataSize} bytes; the file is truncated or the header lies about sizes`,
      file,
    );
  }
  const expected = elementCount(shape as number[]) * SAFETENSORS_DTYPE_SIZES[dtype];
  if (end - begin !== expected) {
    throw new InputError(
      `invalid safetensors header: ${where} spans ${end - begin} bytes but shape ${JSON.stringify(shape)} of ${dtype} needs ${expected}`,
      file,
    );
  }
  return { name, dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end };
}

function checkNoOverlap(entries: SafetensorsEntry[], file: string): void {
  const sorted = entries.filter((entry) => entry.end > entry.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw new InputError(`invalid safetensors header: tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap in the data section`, file);
    }
  }
}

/** An open safetensors file whose tensors are read one at a time by offset. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly header: SafetensorsHeader,
  ) {}

  /** Opens and validates a file; only the header is read. */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new InputError(`cannot open safetensors file: ${(error as Error).message}`, path, { cause: error });
    }
    try {
      const header = await readHeader(handle, path);
      return new SafetensorsFile(path, handle, header);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get names(): string[] {
    return [...this.header.entries.keys()];
  }

  entry(name: string): SafetensorsEntry {
    const entry = this.header.entries.get(name);
    if (entry === undefined) throw new InputError(`tensor "${name}" is missing`, this.path);
    return entry;
  }

  /** Reads the raw little-endian bytes of one tensor. */
  async readBytes(name: string): Promise<Uint8Array> {
    const entry = this.entry(name);
    const bytes = new Uint8Array(entry.end - entry.begin);
    const { bytesRead } = await this.handle.read(bytes, 0, bytes.length, entry.begin);
    if (bytesRead !== bytes.length) {
      throw new InputError(`tensor "${name}": read ${bytesRead} of ${bytes.length} bytes; the file changed or is truncated`, this.path);
    }
    return bytes;
  }

  /** Reads one float tensor (F32, F16, BF16 or F64) converted to float32. */
  async readFloat32(name: string): Promise<Float32Array> {
    const entry = this.entry(name);
    return decodeFloat32(await this.readBytes(name), entry.dtype, name, this.path);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readHeader(handle: FileHandle, path: string): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  if (size < 8) throw new InputError(`invalid safetensors file: ${size} bytes is shorter than the 8-byte header length`, path);

  const lengthBytes = Buffer.alloc(8);
  await handle.read(lengthBytes, 0, 8, 0);
  const headerLength = lengthBytes.readBigUInt64LE(0);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new InputError(`invalid safetensors file: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit; the file is corrupted or not safetensors`, path);
  }
  if (headerLength > BigInt(size - 8)) {
    throw new InputError(`invalid safetensors file: header length ${headerLength} exceeds the ${size - 8} bytes after the length field; the file is truncated`, path);
  }

  const headerBytes = Buffer.alloc(Number(headerLength));
  await handle.read(headerBytes, 0, headerBytes.length, 8);
  return parseSafetensorsHeader(headerBytes, size, path);
}

const hostIsLittleEndian = endianness() === 'LE';

/** Converts raw little-endian bytes of a float dtype to float32 (a fresh, aligned copy). */
export function decodeFloat32(bytes: Uint8Array, dtype: SafetensorsDtype, name: string, file: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      // A fresh aligned copy can be viewed directly on little-endian hosts.
      if (hostIsLittleEndian) return new Float32Array(Uint8Array.prototype.slice.call(bytes).buffer);
      const out = new Float32Array(bytes.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = float16BitsToNumber(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = bfloat16BitsToNumber(view.getUint16(i * 2, true));
      return out;
    }
    default:
      throw new InputError(`tensor "${name}" has dtype ${dtype}; model weights must be F32, F16, BF16 or F64`, file);
  }
}

/** Converts float32 values to the little-endian bytes of a float dtype. */
export function encodeFloat(values: Float32Array, dtype: FloatDtype): Uint8Array {
  const size = SAFETENSORS_DTYPE_SIZES[dtype];
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'F32') view.setFloat32(i * 4, values[i], true);
    else if (dtype === 'F16') view.setUint16(i * 2, numberToFloat16Bits(values[i]), true);
    else view.setUint16(i * 2, numberToBfloat16Bits(values[i]), true);
  }
  return bytes;
}

export interface SafetensorsTensorData {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

/** Builds the header bytes (length prefix + space-padded JSON) for tensors laid out in the given order. */
export function encodeSafetensorsHeader(tensors: SafetensorsTensorData[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;

  let offset = 0;
  for (const tensor of tensors) {
    const expected = elementCount(tensor.shape) * SAFETENSORS_DTYPE_SIZES[tensor.dtype];
    if (tensor.data.byteLength !== expected) {
      throw new Error(`tensor "${tensor.name}" has ${tensor.data.byteLength} bytes but shape ${JSON.stringify(tensor.shape)} of ${tensor.dtype} needs ${expected}`);
    }
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }

  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + jsonBytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  return out;
}

/** Writes a safetensors file atomically (temporary sibling, then rename). */
export async function writeSafetensors(path: string, tensors: SafetensorsTensorData[], metadata?: Record<string, string>): Promise<void> {
  const header = encodeSafetensorsHeader(tensors, metadata);
  await writeFileAtomic(path, [header, ...tensors.map((tensor) => tensor.data)]);
}
