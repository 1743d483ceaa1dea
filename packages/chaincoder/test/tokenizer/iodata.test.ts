import { describe, expect, it } from 'vitest';
import { alignIoSamples, encodeIoSample, ioSampleToObject, parseIoPiece } from '../../src/tokenizer/iodata.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/special-tokens.js';

const HOLD = SPECIAL_TOKENS.onHold;

describe('I/O sample tokenization', () => {
  it('reads pieces as int, float or str', () => {
    expect(parseIoPiece('42')).toEqual({ type: 'int', value: 42n });
    expect(parseIoPiece('-7')).toEqual({ type: 'int', value: -7n });
    expect(parseIoPiece('1.50')).toEqual({ type: 'float', value: 1.5 });
    expect(parseIoPiece('1e3')).toEqual({ type: 'float', value: 1000 });
    expect(parseIoPiece('inf')).toEqual({ type: 'float', value: Infinity });
    expect(parseIoPiece('abc')).toEqual({ type: 'str', value: 'abc' });
    expect(parseIoPiece('1.2.3')).toEqual({ type: 'str', value: '1.2.3' });
    expect(parseIoPiece('9'.repeat(4300)).type).toBe('float');
  });

  it('example C tokens', () => {
    const encoded = encodeIoSample(ioSampleToObject('3\n1 2 ab', 'YES'), { mode: 'compat' });
    expect(encoded.s4).toEqual(['3', '1', '2', "'a'", "'b'", "'Y'", "'E'", "'S'", SPECIAL_TOKENS.finalChasing]);
    expect(encoded.s3).toEqual([
      'Module(body=[Expr(value=List(elts=[List(elts=[List(elts=[Constant(value=',
      ',kind=None)],ctx=Load()),List(elts=[Constant(value=',
      ',kind=None),Constant(value=',
      ',kind=None),Constant(value=',
      HOLD,
      ',kind=None)],ctx=Load())],ctx=Load()),List(elts=[List(elts=[Constant(value=',
      HOLD,
      HOLD,
      ',kind=None)],ctx=Load())],ctx=Load())],ctx=Load()))],type_ignores=[])',
    ]);
    expect(encoded.lineTokenCounts).toEqual([1, 4, 3]);
  });

  it('negative numbers become unary minus', () => {
    const encoded = encodeIoSample(ioSampleToObject('-5', '0.5'));
    expect(encoded.s4.slice(0, 2)).toEqual(['USub()', '5']);
    expect(encoded.s4.slice(2, 5)).toEqual(['0', "'.'", '5']);
  });

  it('aligns lines right within the widest sample', () => {
    const yes = encodeIoSample(ioSampleToObject('1', 'YES'));
    const no = encodeIoSample(ioSampleToObject('2', 'NO'));
    const aligned = alignIoSamples([yes, no]);
    expect(aligned.fallback).toBe(false);
    expect(aligned.content[0]).toEqual(['1', "'Y'", "'E'", "'S'", SPECIAL_TOKENS.finalChasing]);
    expect(aligned.content[1]).toEqual(['2', SPECIAL_TOKENS.ioPadContent, "'N'", "'O'", SPECIAL_TOKENS.finalChasing]);
    expect(aligned.syntax[1][1]).toBe(SPECIAL_TOKENS.ioPadSyntax);
    expect(aligned.syntax[0]).toHaveLength(aligned.syntax[1].length);
  });

  it('pads at the end when line structures differ', () => {
    const one = encodeIoSample(ioSampleToObject('1', 'A'));
    const two = encodeIoSample(ioSampleToObject('1\n2 3', 'A'));
    const aligned = alignIoSamples([one, two]);
    expect(aligned.fallback).toBe(true);
    expect(aligned.content[0]).toHaveLength(aligned.content[1].length);
    expect(aligned.content[0].at(-1)).toBe(SPECIAL_TOKENS.finalChasing);
    expect(aligned.content[0].at(-2)).toBe(SPECIAL_TOKENS.ioPadContent);
  });
});
