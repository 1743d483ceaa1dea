import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../src/index.js';

describe('f16 conversion', () => {
  it('round-trips exactly representable values', () => {
    for (const value of [0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 1.5, 1000.5]) {
      expect(f16BitsToF32(f32ToF16Bits(value))).toBe(value);
    }
  });

  it('encodes known bit patterns', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
  });

  it('rounds to nearest even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
  });

  it('saturates to infinity and keeps NaN', () => {
    expect(f32ToF16Bits(70000)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
  });

  it('handles subnormals and underflow', () => {
    expect(f32ToF16Bits(3 * 2 ** -24)).toBe(0x0003);
    expect(f32ToF16Bits(2 ** -26)).toBe(0);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
  });
});
