import { describe, expect, it } from 'vitest';
import { encodeProgram } from '../../src/tokenizer/encode.js';
import { decodeProgram } from '../../src/tokenizer/decode.js';
import { serializeTarget } from '../../src/tokenizer/target.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/special-tokens.js';

const HOLD = SPECIAL_TOKENS.onHold;
const FINAL = SPECIAL_TOKENS.finalChasing;

// Worked example A of the reference tokenizer (CPython 3.8 output).
const SOURCE_A = 'n = int(input())\na = [int(v) for v in input().split()]\nif n > 250:\n    print("big")\nprint(sum(a) % 1000000007)\n';
const PAIRS_A: [string, string][] = [
  ['Module(body=[Assign(targets=[Name(id=', "'var_0'"],
  [',ctx=Store())],value=Call(func=Name(id=', "'int'"],
  [',ctx=Load()),args=[Call(func=Name(id=', "'input'"],
  [',ctx=Load()),args=[],keywords=[])],keywords=[]),type_comment=None),Assign(targets=[Name(id=', "'var_1'"],
  [',ctx=Store())],value=ListComp(elt=Call(func=Name(id=', "'int'"],
  [',ctx=Load()),args=[Name(id=', "'var_2'"],
  [',ctx=Load())],keywords=[]),generators=[comprehension(target=Name(id=', "'var_2'"],
  [',ctx=Store()),iter=Call(func=Attribute(value=Call(func=Name(id=', "'input'"],
  [',ctx=Load()),args=[],keywords=[]),attr=', "'split'"],
  [',ctx=Load()),args=[],keywords=[]),ifs=[],is_async=', '0'],
  [')]),type_comment=None),If(test=Compare(left=Name(id=', "'var_0'"],
  [',ctx=Load()),ops=[', 'Gt()'],
  ['],comparators=[Constant(value=', '2'],
  [HOLD, '5'],
  [HOLD, '0'],
  [',kind=None)]),body=[Expr(value=Call(func=Name(id=', "'print'"],
  [',ctx=Load()),args=[Constant(value=', "'b'"],
  [HOLD, "'i'"],
  [HOLD, "'g'"],
  [',kind=None)],keywords=[]))],orelse=[]),Expr(value=Call(func=Name(id=', "'print'"],
  [',ctx=Load()),args=[BinOp(left=Call(func=Name(id=', "'sum'"],
  [',ctx=Load()),args=[Name(id=', "'var_1'"],
  [',ctx=Load())],keywords=[]),op=', 'Mod()'],
  [',right=Constant(value=', '1'],
  ...'00000000'.split('').map((digit): [string, string] => [HOLD, digit]),
  [HOLD, '7'],
  [',kind=None))],keywords=[]))],type_ignores=[])', FINAL],
];

// Worked example B: docstring emptied, float snapped, 3.8 Index wrapper.
const SOURCE_B = 'def solve(k, xs):  # a comment\n    """docstring"""\n    best = -1.37\n    while k:\n        k -= 1\n    return best, xs[0]\n';
const PAIRS_B: [string, string][] = [
  ['Module(body=[FunctionDef(name=', "'func_0'"],
  [',args=arguments(posonlyargs=[],args=[arg(arg=', "'var_in_0'"],
  [',annotation=None,type_comment=None),arg(arg=', "'var_in_1'"],
  [
    ',annotation=None,type_comment=None)],vararg=None,kwonlyargs=[],kw_defaults=[],kwarg=None,defaults=[]),body=[Expr(value=Constant(value=',
    "''",
  ],
  [',kind=None)),Assign(targets=[Name(id=', "'var_0'"],
  [',ctx=Store())],value=UnaryOp(op=', 'USub()'],
  [',operand=Constant(value=', '1.4'],
  [',kind=None)),type_comment=None),While(test=Name(id=', "'var_in_0'"],
  [',ctx=Load()),body=[AugAssign(target=Name(id=', "'var_in_0'"],
  [',ctx=Store()),op=', 'Sub()'],
  [',value=Constant(value=', '1'],
  [',kind=None))],orelse=[]),Return(value=Tuple(elts=[Name(id=', "'var_0'"],
  [',ctx=Load()),Subscript(value=Name(id=', "'var_in_1'"],
  [',ctx=Load()),slice=Index(value=Constant(value=', '0'],
  [',kind=None)),ctx=Load())],ctx=Load()))],decorator_list=[],returns=None,type_comment=None)],type_ignores=[])', FINAL],
];

describe('compat mode worked examples', () => {
  it('example A token for token', async () => {
    const encoded = await encodeProgram(SOURCE_A, { mode: 'compat' });
    expect(encoded.s3).toEqual(PAIRS_A.map((pair) => pair[0]));
    expect(encoded.s4).toEqual(PAIRS_A.map((pair) => pair[1]));
    expect(encoded.s3).toHaveLength(34);
    expect(encoded.s1).toEqual([PAIRS_A[0][0]]);
    expect(encoded.s2).toEqual(["'var_0'"]);
    expect(encoded.outline).toBe('stride:500');
  });

  it('example A target and decoding', async () => {
    const encoded = await encodeProgram(SOURCE_A, { mode: 'compat' });
    const target = serializeTarget(encoded);
    expect(target).toHaveLength(75);
    expect(decodeProgram(target, { mode: 'compat' }).source).toBe(
      'var_0 = int(input())\nvar_1 = [int(var_2) for var_2 in input().split()]\nif var_0 > 250:\n    print(\'big\')\nprint(sum(var_1) % 1000000007)\n',
    );
  });

  it('example B token for token', async () => {
    const encoded = await encodeProgram(SOURCE_B, { mode: 'compat' });
    expect(encoded.s3).toEqual(PAIRS_B.map((pair) => pair[0]));
    expect(encoded.s4).toEqual(PAIRS_B.map((pair) => pair[1]));
    expect(encoded.renames).toEqual({ solve: 'func_0', k: 'var_in_0', xs: 'var_in_1', best: 'var_0' });
  });

  it('example B decodes with its documented losses', async () => {
    const encoded = await encodeProgram(SOURCE_B, { mode: 'compat' });
    expect(decodeProgram(serializeTarget(encoded), { mode: 'compat' }).source).toBe(
      "def func_0(var_in_0, var_in_1):\n    ''\n    var_0 = -1.4\n    while var_in_0:\n        var_in_0 -= 1\n    return (var_0, var_in_1[0])\n",
    );
  });

  it('compat drops *args, kw-only args, format specs and import levels', async () => {
    const source = 'def f(a, *args, b=2, **kw):\n    return f"{a!r:>5}"\nfrom ..m import x\n';
    const encoded = await encodeProgram(source, { mode: 'compat' });
    const decoded = decodeProgram(serializeTarget(encoded), { mode: 'compat' }).source;
    expect(decoded).toBe("def func_0(var_in_0, **var_in_1):\n    return f'{var_in_0!r}'\nfrom m import x\n");
  });

  it('compat keeps 200 whole and splits 201', async () => {
    const encoded = await encodeProgram('x = 200\ny = 201\n', { mode: 'compat' });
    expect(encoded.s4).toContain('200');
    expect(encoded.s4.filter((token) => token === '2')).toHaveLength(1);
  });
});

describe('lossless mode fixes', () => {
  it('keeps exact floats as pieces', async () => {
    const encoded = await encodeProgram('x = -1.37e-5\n');
    const start = encoded.s4.indexOf('1');
    expect(encoded.s4.slice(start, start + 8)).toEqual(['1', "'.'", '3', '7', "'e'", "'-'", '0', '5']);
    expect(decodeProgram(serializeTarget(encoded)).source).toBe('var_0 = -1.37e-05\n');
  });

  it('keeps *args, kw-only args, format specs and levels', async () => {
    const source = 'def f(a, /, *args, b=2, **kw):\n    return f"{a!r:>5}"\nfrom ..m import x\n';
    const encoded = await encodeProgram(source, { renameIdentifiers: false });
    expect(decodeProgram(serializeTarget(encoded)).source).toBe(
      "def f(a, /, *args, b=2, **kw):\n    return f'{a!r:>5}'\nfrom ..m import x\n",
    );
  });

  it('distinguishes True, 1 and 1.0', async () => {
    const encoded = await encodeProgram('x = [True, 1, 1.0]\n', { renameIdentifiers: false });
    const decoded = decodeProgram(serializeTarget(encoded)).source;
    expect(decoded).toBe('x = [True, 1, 1.0]\n');
  });

  it('splits 200 as outside the base vocabulary', async () => {
    const encoded = await encodeProgram('x = 200\n');
    expect(encoded.s4).not.toContain('200');
    expect(encoded.s4.slice(1, 4)).toEqual(['2', '0', '0']);
    expect(encoded.s3.slice(2, 4)).toEqual([HOLD, HOLD]);
  });

  it('records the ast outline by default', async () => {
    const encoded = await encodeProgram('n = 3\nfor i in range(n):\n    print(i * 2)\nprint(n)\n');
    expect(encoded.outline).toBe('ast:32');
    expect(encoded.s1).toHaveLength(3);
    expect(encoded.s2).toEqual(["'print'", "'var_1'", 'Mult()', '2']);
  });
});
