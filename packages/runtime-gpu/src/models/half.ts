/**
 * Conversions between float32 and the 16-bit float formats stored in model
 * files: IEEE binary16 (F16) and bfloat16 (BF16). Node 20 has no Float16Array,
 * so both are handled as raw uint16 bit patterns.
 */

const scratch = new DataView(new ArrayBuffer(4));

/** Decodes one IEEE binary16 bit pattern to a number (subnormals, infinities and NaN included). */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Encodes a number as an IEEE binary16 bit pattern with round-to-nearest-even. */
export function numberToFloat16Bits(value: number): number {
  scratch.setFloat32(0, value, true);
  const f = scratch.getUint32(0, true);
  const sign = (f >>> 16) & 0x8000;
  const exponent = (f >>> 23) & 0xff;
  let mantissa = f & 0x7fffff;

  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);

  // Re-bias the exponent from float32 (127) to float16 (15).
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // The result is subnormal in float16 (or rounds to zero).
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let result = mantissa >>> shift;
    if (rest > half || (rest === half && (result & 1) === 1)) result += 1;
    return sign | result;
  }

  const rest = mantissa & 0x1fff;
  let result = (e << 10) | (mantissa >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (result & 1) === 1)) result += 1;
  // A carry out of the mantissa bumps the exponent, up to infinity, which is the correct rounding.
  return sign | result;
}

/** Decodes one bfloat16 bit pattern: the upper half of a float32. */
export function bfloat16BitsToNumber(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16, true);
  return scratch.getFloat32(0, true);
}

/** Encodes a number as bfloat16 with round-to-nearest-even; NaN stays NaN. */
export function numberToBfloat16Bits(value: number): number {
  scratch.setFloat32(0, value, true);
  const f = scratch.getUint32(0, true);
  if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) return ((f >>> 16) & 0xffff) | 0x40;
  const rounding = 0x7fff + ((f >>> 16) & 1);
  return ((f + rounding) >>> 16) & 0xffff;
}
