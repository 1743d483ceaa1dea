/**
 * Element types and their host representations.
 *
 * `f16` tensors store IEEE binary16 bit patterns in a Uint16Array, because
 * Node 20 has no Float16Array. Kernels accumulate f16 inputs in f32.
 */
import { DTypeError } from './errors.js';

export type DType = 'f32' | 'f16' | 'i32';

export const DTYPES: readonly DType[] = ['f32', 'f16', 'i32'];

/** Host array that stores a tensor's elements exactly (f16 as bit patterns). */
export type StorageArray = Float32Array | Uint16Array | Int32Array;

/** Host array returned by `Tensor.read()`: f16 is widened to f32 there. */
export type ValueArray = Float32Array | Int32Array;

export function bytesPerElement(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}

export function assertDType(value: string): DType {
  if ((DTYPES as readonly string[]).includes(value)) return value as DType;
  throw new DTypeError(`Unknown dtype '${value}'; expected one of ${DTYPES.join(', ')}`);
}

export function allocateStorage(dtype: DType, size: number): StorageArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(size);
    case 'f16':
      return new Uint16Array(size);
    case 'i32':
      return new Int32Array(size);
  }
}

const conversionView = new DataView(new ArrayBuffer(4));

/** Rounds an f32 value to the nearest binary16 (ties to even) and returns its bit pattern. */
export function f32ToF16Bits(value: number): number {
  conversionView.setFloat32(0, value);
  const bits = conversionView.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;

  if (exponent === 0xff) {
    // Infinity stays infinity; every NaN becomes a quiet NaN.
    return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  }

  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;

  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit leading one.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const halfMantissa = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (halfMantissa & 1) === 1);
    return sign | (halfMantissa + (roundUp ? 1 : 0));
  }

  const halfMantissa = mantissa >>> 13;
  const remainder = mantissa & 0x1fff;
  const roundUp = remainder > 0x1000 || (remainder === 0x1000 && (halfMantissa & 1) === 1);
  // A carry out of the mantissa correctly increments the exponent (and may reach infinity).
  return (sign | (halfExponent << 10) | halfMantissa) + (roundUp ? 1 : 0);
}

export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export function f32ArrayToF16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return out;
}

export function f16BitsToF32Array(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToF32(bits[i]);
  return out;
}

/**
 * Converts user data to the storage array of `dtype`. Float data given for an
 * f16 tensor is rounded to binary16; a Uint16Array given for f16 is taken as bit patterns.
 */
export function toStorage(data: ArrayLike<number>, dtype: DType): StorageArray {
  switch (dtype) {
    case 'f32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'f16':
      return data instanceof Uint16Array ? data : f32ArrayToF16Bits(data);
    case 'i32':
      return data instanceof Int32Array ? data : Int32Array.from(data);
  }
}

export function storageToValues(storage: StorageArray, dtype: DType): ValueArray {
  if (dtype === 'f16') return f16BitsToF32Array(storage as Uint16Array);
  return storage as ValueArray;
}
