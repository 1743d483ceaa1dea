import { describe, expect, it } from 'vitest';
import { encodeProgram } from '../../src/tokenizer/encode.js';
import { decodeFrame, decodeProgram, tryDecodeProgram } from '../../src/tokenizer/decode.js';
import { parseTarget, serializeTarget } from '../../src/tokenizer/target.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/special-tokens.js';
import { parseOutlineSpec } from '../../src/tokenizer/outline.js';

const SOURCE = 'def f(xs):\n    total = 0\n    for x in xs:\n        total += x * 2\n    return total\n';

describe('decoder target', () => {
  it('segments layout round trip', async () => {
    const encoded = await encodeProgram(SOURCE);
    const target = serializeTarget(encoded);
    expect(target[0]).toBe(SPECIAL_TOKENS.bos);
    expect(target[target.length - 1]).toBe(SPECIAL_TOKENS.eos);
    expect(target).toHaveLength(encoded.s1.length + encoded.s2.length + 2 * encoded.s3.length + 5);
    const padded = [...target, SPECIAL_TOKENS.pad, SPECIAL_TOKENS.pad];
    expect(parseTarget(padded)).toEqual({ s1: encoded.s1, s2: encoded.s2, s3: encoded.s3, s4: encoded.s4 });
  });

  it('interleaved layout round trip', async () => {
    const encoded = await encodeProgram(SOURCE);
    const target = serializeTarget(encoded, 'interleaved');
    expect(target).toHaveLength(2 * encoded.s3.length + 2);
    expect(decodeProgram(target, { layout: 'interleaved' }).source).toBe(decodeProgram(serializeTarget(encoded)).source);
  });

  it('reports unequal S3 and S4', async () => {
    const encoded = await encodeProgram(SOURCE);
    const broken = { ...encoded, s4: encoded.s4.slice(1) };
    expect(tryDecodeProgram(serializeTarget(broken))).toMatchObject({ ok: false, reason: 'length-mismatch' });
  });

  it('reports an unbalanced frame', async () => {
    const encoded = await encodeProgram(SOURCE);
    const s3 = [...encoded.s3];
    s3[s3.length - 1] = s3[s3.length - 1].slice(0, -2);
    expect(tryDecodeProgram(serializeTarget({ ...encoded, s3 }))).toMatchObject({ ok: false, reason: 'unbalanced-frame' });
  });

  it('reports the unknown token', async () => {
    const encoded = await encodeProgram(SOURCE);
    const s4 = [...encoded.s4];
    s4[2] = SPECIAL_TOKENS.unknown;
    expect(tryDecodeProgram(serializeTarget({ ...encoded, s4 }))).toMatchObject({ ok: false, reason: 'unknown-token' });
  });

  it('reports a wrong separator count', async () => {
    const encoded = await encodeProgram(SOURCE);
    const target = serializeTarget(encoded).filter((token, i) => !(token === SPECIAL_TOKENS.separator && i > 3));
    expect(tryDecodeProgram(target)).toMatchObject({ ok: false, reason: 'separator-count' });
  });

  it('reports missing BOS and EOS', async () => {
    const target = serializeTarget(await encodeProgram(SOURCE));
    expect(tryDecodeProgram(target.slice(1))).toMatchObject({ ok: false, reason: 'missing-bos' });
    expect(tryDecodeProgram(target.slice(0, -1))).toMatchObject({ ok: false, reason: 'missing-eos' });
    expect(tryDecodeProgram([])).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('reports pieces that form no value', () => {
    const s3 = ['Module(body=[Expr(value=Constant(value=', SPECIAL_TOKENS.onHold, ',kind=None))],type_ignores=[])'];
    const s4 = ["'a'", "b'x'", SPECIAL_TOKENS.finalChasing];
    expect(() => decodeFrame(s3, s4)).toThrow(/invalid-piece-run/);
  });

  it('reports a frame that is no program', () => {
    const s3 = ['Module(body=[Name(id=', ',ctx=Load())],type_ignores=[])'];
    const s4 = ["'x'", SPECIAL_TOKENS.finalChasing];
    expect(tryDecodeProgram(serializeTarget({ s1: [], s2: [], s3, s4 }))).toMatchObject({ ok: false, reason: 'invalid-tree' });
  });
});

describe('outline strategies', () => {
  it('stride picks pair 0 and every k-th pair', async () => {
    const encoded = await encodeProgram(SOURCE, { outline: 'stride:3' });
    const expected = encoded.s3.map((_, i) => i).filter((i) => i === 0 || (i + 1) % 3 === 0);
    expect(encoded.s1).toEqual(expected.map((i) => encoded.s3[i]));
    expect(encoded.s2).toEqual(expected.map((i) => encoded.s4[i]));
    expect(encoded.outline).toBe('stride:3');
  });

  it('ast uses the wrapper function body and the loop body', async () => {
    const source = 'def syntax_transformer_wrap_func():\n    n = 1\n    while n < 9:\n        n *= 3\n    print(n)\n';
    const encoded = await encodeProgram(source, { outline: 'ast:2' });
    expect(encoded.s1).toHaveLength(3);
    expect(encoded.s2).toEqual(["'var_0'", 'Mult()']);
  });

  it('none gives empty outline', async () => {
    const encoded = await encodeProgram(SOURCE, { outline: 'none' });
    expect(encoded.s1).toEqual([]);
    expect(encoded.s2).toEqual([]);
  });

  it('rejects unknown strategies', () => {
    expect(() => parseOutlineSpec('random')).toThrow(/unknown outline strategy 'random'/);
    expect(() => parseOutlineSpec('stride:0')).toThrow(/positive integer/);
  });
});
