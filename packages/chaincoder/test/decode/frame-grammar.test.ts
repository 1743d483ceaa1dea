/**
 * The layout-frame grammar against real S3 sequences (dataset samples,
 * tokenizer edge cases, stdlib files, random programs) and against prefixes
 * that no Python 3.11 tree can complete.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { listPythonFiles, readDatasetPrograms, readPythonFiles } from '../../src/tokenizer/corpus.js';
import { createProgramTokenizer, type ProgramTokenizer } from '../../src/tokenizer/encode.js';
import { FrameGrammar, lexFragment, type FrameGrammarState } from '../../src/tokenizer/frame-grammar.js';
import type { TokenizerMode } from '../../src/tokenizer/modes.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/special-tokens.js';
import { EDGE_CASES } from '../tokenizer/edge-cases.js';
import { DATA_ROOT } from '../tokenizer/oracle-fixture.js';
import { ProgramGenerator } from '../tokenizer/program-generator.js';

const STDLIB_FILES = 20;

/** Python with the constructs whose fields need cross-field rules (patterns, handlers, relative imports). */
const SHAPES_PROGRAM = [
  'from . import sibling',
  'from .. import parent as p',
  'def f(a, b=1, /, c=2, *args, d, e=3, **kw) -> int:',
  '    global g',
  '    try:',
  '        raise ValueError("x") from None',
  '    except* (TypeError, KeyError) as group:',
  '        pass',
  '    try:',
  '        pass',
  '    finally:',
  '        del a[0], b.c',
  '    match d:',
  '        case Point(x=0, y=[1, *rest]) | {"k": -1.5, **others}:',
  '            return 1 + 2j',
  '        case -3 + 4j | None | a.b.c:',
  '            pass',
  '        case str() as text if text:',
  '            return f"{text!r:>{e}}"',
  '        case _:',
  '            return lambda x, *, y=1: (x, y)',
].join('\n');

/**
 * Feeds an S3 sequence token by token (each but the last followed by a hole)
 * and returns null when every step is accepted, or a description of the
 * first rejected step. It also checks that `minHoles` never exceeds the
 * holes the real frame still has.
 */
function walk(grammar: FrameGrammar, s3: readonly string[]): string | null {
  let state: FrameGrammarState = grammar.initial;
  let holesLeft = s3.slice(0, -1).filter((token) => token !== SPECIAL_TOKENS.onHold).length;
  for (const [index, token] of s3.entries()) {
    if (token === SPECIAL_TOKENS.onHold) {
      if (state.lastHole === null) return `on-hold token ${index} continues no value`;
      continue;
    }
    const lexemes = lexFragment(token);
    if (lexemes === null) return `fragment ${index} does not lex: ${token}`;
    const next = grammar.feed(state, lexemes);
    if (next === null) return `fragment ${index} rejected: ${token}`;
    if (index === s3.length - 1) return grammar.isComplete(next) ? null : 'the last fragment leaves the dump incomplete';
    const hole = grammar.hole(next);
    if (hole === null) return `no hole allowed after fragment ${index}: ${token}`;
    state = hole.state;
    holesLeft--;
    const bound = grammar.minHoles(state);
    if (bound > holesLeft) return `minHoles ${bound} exceeds the ${holesLeft} holes left after fragment ${index}`;
  }
  return 'empty frame';
}

/** Feeds dump text given as fragments separated by holes (`|`); returns the state or null on rejection. */
function feedText(grammar: FrameGrammar, text: string): FrameGrammarState | null {
  const parts = text.split('|');
  let state: FrameGrammarState | null = grammar.initial;
  for (const [index, part] of parts.entries()) {
    const lexemes = lexFragment(part);
    if (lexemes === null) return null;
    state = grammar.feed(state, lexemes);
    if (state === null) return null;
    if (index < parts.length - 1) {
      const hole = grammar.hole(state);
      if (hole === null) return null;
      state = hole.state;
    }
  }
  return state;
}

describe('frame grammar on real frames', () => {
  let tokenizer: ProgramTokenizer;
  let sources: { name: string; source: string }[];

  beforeAll(async () => {
    tokenizer = await createProgramTokenizer();
    const stdlib = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])']).toString().trim();
    const files = await listPythonFiles(stdlib);
    const step = Math.max(1, Math.floor(files.length / STDLIB_FILES));
    const stdlibPrograms = await readPythonFiles(stdlib, 'stdlib', files.filter((_, i) => i % step === 0).slice(0, STDLIB_FILES));
    const generator = new ProgramGenerator(5);
    sources = [
      ...(await readDatasetPrograms(DATA_ROOT)),
      ...Object.entries(EDGE_CASES).map(([name, source]) => ({ name, source })),
      ...stdlibPrograms,
      ...Array.from({ length: 100 }, (_, i) => ({ name: `random-${i}`, source: generator.program() })),
      { name: 'shapes', source: SHAPES_PROGRAM },
    ];
  }, 120_000);

  for (const mode of ['lossless', 'compat'] as TokenizerMode[]) {
    it(`accepts every ${mode} S3 sequence`, { timeout: 120_000 }, () => {
      const grammar = new FrameGrammar(mode);
      let checked = 0;
      const failures: string[] = [];
      for (const { name, source } of sources) {
        let s3: string[];
        try {
          s3 = tokenizer.encode(source, { mode, poolSize: Number.MAX_SAFE_INTEGER }).s3;
        } catch {
          // Sources the tokenizer itself rejects (syntax it does not support) have no frame to check.
          continue;
        }
        // An empty module is valid Python, but the grammar requires a statement so that decoded programs are never empty.
        if (s3.length === 1 && s3[0] === 'Module(body=[],type_ignores=[])') continue;
        checked++;
        const failure = walk(grammar, s3);
        if (failure !== null) failures.push(`${name}: ${failure}`);
      }
      expect(failures).toEqual([]);
      expect(checked).toBeGreaterThan(300);
    });
  }

  it('accepts the shapes program in pieces', () => {
    const s3 = tokenizer.encode(SHAPES_PROGRAM).s3;
    expect(walk(new FrameGrammar('lossless'), s3)).toBeNull();
  });
});

describe('frame grammar prefixes', () => {
  const grammar = new FrameGrammar('lossless');

  it('accepts a whole dump', () => {
    const state = feedText(grammar, 'Module(body=[Expr(value=Call(func=Name(id=|,ctx=Load()),args=[Constant(value=|,kind=None)],keywords=[]))],type_ignores=[])');
    expect(state).not.toBeNull();
    expect(grammar.isComplete(state!)).toBe(true);
  });

  it('rejects a second Module', () => {
    expect(feedText(grammar, 'Module(body=[Module(')).toBeNull();
  });

  it('rejects an expression as a statement', () => {
    expect(feedText(grammar, 'Module(body=[Name(id=')).toBeNull();
    expect(feedText(grammar, 'Module(body=[Expr(value=Name(id=')).not.toBeNull();
  });

  it('rejects an empty body', () => {
    expect(feedText(grammar, 'Module(body=[]')).toBeNull();
    expect(feedText(grammar, 'Module(body=[If(test=Name(id=|,ctx=Load()),body=[]')).toBeNull();
  });

  it('rejects a wrong field order', () => {
    expect(feedText(grammar, 'Module(body=[Assign(value=')).toBeNull();
  });

  it('rejects a call as an assignment target', () => {
    expect(feedText(grammar, 'Module(body=[Assign(targets=[Call(')).toBeNull();
    expect(feedText(grammar, 'Module(body=[Assign(targets=[Tuple(elts=[Starred(value=Name(id=')).not.toBeNull();
  });

  it('rejects Starred outside element lists', () => {
    expect(feedText(grammar, 'Module(body=[Expr(value=Starred(')).toBeNull();
  });

  it('rejects a try without handlers or finally', () => {
    expect(feedText(grammar, 'Module(body=[Try(body=[Pass()],handlers=[],orelse=[],finalbody=[]')).toBeNull();
    expect(feedText(grammar, 'Module(body=[Try(body=[|],handlers=[],orelse=[],finalbody=[')).not.toBeNull();
  });

  it('rejects unequal compare lists', () => {
    const prefix = 'Module(body=[Expr(value=Compare(left=Name(id=|,ctx=Load()),ops=[|],comparators=[';
    expect(feedText(grammar, `${prefix}]`)).toBeNull();
    expect(feedText(grammar, `${prefix}Name(id=|,ctx=Load()),Name(`)).toBeNull();
  });

  it('rejects except-as without a type', () => {
    expect(feedText(grammar, 'Module(body=[Try(body=[|],handlers=[ExceptHandler(type=None,name=|')).toBeNull();
  });

  it('rejects more defaults than parameters', () => {
    expect(feedText(grammar, 'Module(body=[FunctionDef(name=|,args=arguments(posonlyargs=[],args=[],vararg=None,kwonlyargs=[],kw_defaults=[],kwarg=None,defaults=[Constant(')).toBeNull();
  });

  it('allows holes only at leaves', () => {
    expect(grammar.hole(feedText(grammar, 'Module(body=[Expr(value=')!)).toBeNull();
    expect(grammar.hole(feedText(grammar, 'Module(body=[')!)?.kind).toBe('statement-singleton');
    expect(grammar.hole(feedText(grammar, 'Module(body=[Expr(value=Name(id=')!)?.kind).toBe('identifier');
    expect(grammar.hole(feedText(grammar, 'Module(body=[Expr(value=Name(id=|,ctx=')!)).toBeNull();
  });

  it('gives each operator field its category', () => {
    const expression = (text: string): string => `Module(body=[Expr(value=${text}`;
    expect(grammar.hole(feedText(grammar, expression('BinOp(left=Name(id=|,ctx=Load()),op='))!)?.kind).toBe('operator');
    expect(grammar.hole(feedText(grammar, expression('BoolOp(op='))!)?.kind).toBe('boolop');
    expect(grammar.hole(feedText(grammar, expression('UnaryOp(op='))!)?.kind).toBe('unaryop');
    expect(grammar.hole(feedText(grammar, expression('Compare(left=Name(id=|,ctx=Load()),ops=['))!)?.kind).toBe('cmpop');
    expect(grammar.hole(feedText(grammar, 'Module(body=[AugAssign(target=Name(id=|,ctx=Store()),op=')!)?.kind).toBe('operator');
  });

  it('marks a relative level when the module is missing', () => {
    const state = feedText(grammar, 'Module(body=[ImportFrom(module=None,names=[alias(name=|,asname=None)],level=');
    expect(grammar.hole(state!)?.kind).toBe('relative-level');
  });

  it('bounds the holes a completion needs', () => {
    expect(grammar.minHoles(grammar.initial)).toBe(0);
    // A comparison needs an operator and a right-hand side.
    const state = feedText(grammar, 'Module(body=[Expr(value=Compare(left=Name(id=|,ctx=Load()),ops=[');
    expect(grammar.minHoles(state!)).toBe(1);
  });

  it('narrows shapes in compat mode', () => {
    const compat = new FrameGrammar('compat');
    const subscript = 'Module(body=[Expr(value=Subscript(value=Name(id=|,ctx=Load()),slice=';
    expect(feedText(compat, `${subscript}Index(value=Name(id=`)).not.toBeNull();
    expect(feedText(grammar, `${subscript}Index(`)).toBeNull();
  });
});
