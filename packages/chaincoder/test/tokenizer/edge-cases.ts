/** Hand-written Python sources for the CPython normalizations the converter must reproduce, by case name. */
export const EDGE_CASES: Record<string, string> = {
  contexts: 'a, (b, [c, *d]) = e\nfor x, (y, z) in w: pass\ndel a[0], b.c\nwith f() as (g, h): pass\n',
  boolChains: 'x = a and b and c\ny = (a and b) and c\nz = a or b and c or d\n',
  comparisons: 'x = a < b <= c != d\ny = a not in b is not c\n',
  precedence: 'x = ~1 ^ 1 & 1 | 1 & 1 ^ -1\ny = -2 ** -2\nz = (a + b) * c - d / e // f % g @ h\nw = a << b + c >> d\n',
  strings: 'x = "a" \'b\' """c"""\ny = u"u" "v"\nz = b"\\x00" rb"\\d"\nw = "\\t\\101\\u00e9\\U0001F600\\q"\n',
  fstrings: 'x = f"{a!r:>{w}} {b=} {c:.2f}" "tail" f"{{}}"\ny = f"{x = !s}" f\'\'\ny = f"{a}{b}"\n',
  numbers: 'x = [0x1F, 0o17, 0b1_01, 1_000_000, 123456789012345678901234567890, 1.5e-3, .5, 3., 2j, 1e309, 10**400]\n',
  negatives: 'x = -1\ny = -1.5\nz = - -a\n',
  elif: 'if a:\n    pass\nelif b:\n    pass\nelif c:\n    x = 1\nelse:\n    y = 2\n',
  docstrings: 'def f():\n    """doc"""\n    return 1\nclass A:\n    "doc"\n',
  arguments: 'def f(a, b=1, /, c=2, *args, d, e=3, **kw): pass\ng = lambda x, *, y=1: x\ndef h(*, k): pass\n',
  annotations: 'x: int = 1\n(y): list[int]\nz.w: dict[str, int | None] = {}\ndef f(a: "A", *b: int) -> tuple[int, ...]: pass\n',
  slices: 'x = a[1:2, ::3, 4]\ny = a[1,]\nz = a[:]\nw = a[b:c:d]\nv = a[*b]\nu = a[x, (3, 5)]\n',
  calls: 'f(a, *b, c=1, **d)\ng(x for x in y)\nh(*[a.b()], **{k: v})\n',
  comprehensions: 'x = [a for b in c if d if e for f in g]\ny = {a: b for a, b in c}\nz = {a for (a) in b}\nw = (a for a in b)\n',
  statements: 'import a.b as c, d\nfrom ..e import (f as g, h)\nfrom . import *\nglobal i, j\nassert k, "m"\nraise E from F\n',
  tryExcept: 'try:\n    pass\nexcept (A, B) as e:\n    pass\nexcept C:\n    pass\nelse:\n    pass\nfinally:\n    pass\n',
  walrusYield: 'def g():\n    x = yield\n    y = yield a, b\n    yield from z\n    if (n := len(a)) > 1: pass\n',
  classes: '@dec\n@dec2(1)\nclass A(B, C, metaclass=M, **kw):\n    x = 1\n',
  unicodeNames: 'ｗｉｄｔｈ = 1\nµ = 2\n',
  printChevron: 'print >> f, "x"\n',
  continuation: 'x = 1 + \\\n    2\nif (a and\n        b): pass\n',
  asyncDef:
    '@dec\nasync def f(a, *, b=1) -> int:\n    x = await g(a)\n    y = (await h) ** 2 + await i if await j else (await k).m\n' +
    '    async for k, v in aiter():\n        pass\n    else:\n        pass\n    async with a as b, c:\n        pass\n' +
    '    z = [i async for i in z if await i for j in k]\n    w = {k: v async for k, v in d}\n    return (await t for t in u)\n',
  matchLiterals:
    'match p:\n    case 1 | -2 | 3 + 4j | -5.5 - 6j | "s" "t" | b"x" | a.b.c:\n        pass\n' +
    '    case None | True | False:\n        pass\n    case x if x > 1:\n        pass\n    case _:\n        pass\n',
  matchSequences:
    'match a, *b:\n    case [1, *rest, _] if (n := len(rest)):\n        pass\n    case (a, b) | (a,) | () | []:\n        pass\n' +
    '    case *c, d:\n        pass\n    case 1,:\n        pass\n    case [*_, (x)] | [(1 | 2) as y]:\n        pass\n',
  matchMappingsClasses:
    'match p:\n    case {"k": v, -1: w, a.b: _, None: z, **kw}:\n        pass\n    case {}:\n        pass\n' +
    '    case Point(1, y=-2, z=_) as pt:\n        pass\n    case a.B() | str(s) | C(x=[1, *_], y={**r}):\n        pass\n' +
    '    case (1 | 2) | 3 as q:\n        return q\n',
  parenthesizedWith: 'with (\n    manager() as x\n):\n    pass\nwith (a as b, c):\n    pass\nwith (a, b):\n    pass\nwith (yield):\n    pass\n',
  typeCallAssignment: 'type(self).count = 0\ntype(a)[k].b = c + 1\ntype(x).y\n',
  tryStar: 'try:\n    pass\nexcept* (A, B) as e:\n    pass\nexcept* C:\n    raise\nelse:\n    pass\nfinally:\n    pass\n',
};
