/**
 * The node schema behind the layout-frame grammar, written as data: which
 * node classes may fill a field, in which category (statement, expression,
 * assignment target, pattern, …), and which fields are leaves that the frame
 * builder cuts out as content tokens (holes).
 *
 * Field kinds are spelled as a category name plus an optional suffix:
 * `?` also allows `None`, `*` is a list, `+` a non-empty list and `{2}` a
 * list of at least two. Categories starting with `#` are holes (one content
 * token each, or several pieces joined by the on-hold token for constants),
 * `$int` and `$str` are literals written into the frame itself, and the
 * kind `none` allows only `None`.
 *
 * The categories are narrower than CPython's `ast` types where unparsing
 * would otherwise give text that Python 3.11 cannot parse back: assignment
 * targets are names, attributes, subscripts, tuples and lists of targets,
 * `Starred` appears only in element lists and call arguments, `Slice` only
 * in subscripts, lambda parameters carry no annotations, and patterns hold
 * only the values a `case` clause accepts.
 */
import type { TokenizerMode } from './modes.js';

/** Content (hole) kinds: what the S4 token at a hole must spell. */
export type HoleKind =
  /** A plain identifier (`Name.id`, `arg.arg`, …). */
  | 'identifier'
  /** A dotted module or import name (`alias.name`, `ImportFrom.module`). */
  | 'dotted-name'
  /** Any `Constant.value`, possibly split into pieces. */
  | 'constant'
  /** A string `Constant.value` inside an f-string. */
  | 'string-constant'
  /** A constant a `case` clause accepts as a value (no `...`). */
  | 'match-constant'
  /** A non-negative number constant (the operand of a negative `case` value). */
  | 'number-constant'
  /** A non-negative int or float (the real part of a complex `case` value). */
  | 'real-constant'
  /** An imaginary number such as `2j` (the imaginary part of a complex `case` value). */
  | 'imaginary-constant'
  /** `MatchSingleton.value`: None, True or False. */
  | 'singleton-constant'
  | 'operator'
  | 'boolop'
  | 'unaryop'
  /** The `-` of a negative `case` value. */
  | 'usub'
  /** The `+` or `-` of a complex `case` value such as `1 + 2j`. */
  | 'sign-operator'
  | 'cmpop'
  /** `Pass()`, `Break()` or `Continue()` as a whole statement. */
  | 'statement-singleton'
  /** `Load()`, `Store()` or `Del()` (compat mode cuts out a `Starred` context). */
  | 'context'
  /** `comprehension.is_async`: 0 or 1. */
  | 'async-flag'
  /** `FormattedValue.conversion`: -1, 115, 114 or 97. */
  | 'conversion'
  /** `ImportFrom.level` (lossless mode), 0 or more. */
  | 'level'
  /** `ImportFrom.level` when the module is None: 1 or more. */
  | 'relative-level';

export const HOLE_KINDS: readonly HoleKind[] = [
  'identifier', 'dotted-name', 'constant', 'string-constant', 'match-constant', 'number-constant', 'real-constant', 'imaginary-constant', 'singleton-constant',
  'operator', 'boolop', 'unaryop', 'usub', 'sign-operator', 'cmpop', 'statement-singleton', 'context', 'async-flag', 'conversion', 'level', 'relative-level',
];

/** Hole kinds whose value may be split into several pieces (the later pieces sit under on-hold tokens). */
export const MULTI_PIECE_HOLES: ReadonlySet<HoleKind> = new Set(['constant', 'string-constant', 'match-constant', 'number-constant', 'real-constant', 'imaginary-constant']);

/**
 * Field kinds of each class variant. A variant is a class name, or
 * `Class@context` for the same class with narrower fields in one context
 * (a tuple of assignment targets, a lambda's parameters, …).
 */
const LOSSLESS_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Module: { body: 'stmt+', type_ignores: 'never*' },

  // Statements.
  FunctionDef: { name: '#identifier', args: 'arguments', body: 'stmt+', decorator_list: 'expr*', returns: 'expr?', type_comment: '$str?' },
  AsyncFunctionDef: { name: '#identifier', args: 'arguments', body: 'stmt+', decorator_list: 'expr*', returns: 'expr?', type_comment: '$str?' },
  ClassDef: { name: '#identifier', bases: 'element*', keywords: 'keyword*', body: 'stmt+', decorator_list: 'expr*' },
  // NOTE: statement lists do not know whether they are inside a function, so `return` (and `break`, `yield`) can appear where compile() rejects them.
  Return: { value: 'expr?' },
  Delete: { targets: 'delete-target+' },
  Assign: { targets: 'target+', value: 'expr', type_comment: '$str?' },
  AugAssign: { target: 'single-target', op: '#operator', value: 'expr' },
  AnnAssign: { target: 'single-target', annotation: 'expr', value: 'expr?', simple: '$int' },
  For: { target: 'target', iter: 'expr', body: 'stmt+', orelse: 'stmt*', type_comment: '$str?' },
  AsyncFor: { target: 'target', iter: 'expr', body: 'stmt+', orelse: 'stmt*', type_comment: '$str?' },
  While: { test: 'expr', body: 'stmt+', orelse: 'stmt*' },
  If: { test: 'expr', body: 'stmt+', orelse: 'stmt*' },
  With: { items: 'withitem+', body: 'stmt+', type_comment: '$str?' },
  AsyncWith: { items: 'withitem+', body: 'stmt+', type_comment: '$str?' },
  Match: { subject: 'expr', cases: 'match_case+' },
  Raise: { exc: 'expr?', cause: 'expr?' },
  Try: { body: 'stmt+', handlers: 'excepthandler*', orelse: 'stmt*', finalbody: 'stmt*' },
  TryStar: { body: 'stmt+', handlers: 'star-excepthandler+', orelse: 'stmt*', finalbody: 'stmt*' },
  Assert: { test: 'expr', msg: 'expr?' },
  Import: { names: 'alias+' },
  ImportFrom: { module: '#dotted-name?', names: 'alias+', level: '#level' },
  Global: { names: '#identifier+' },
  Nonlocal: { names: '#identifier+' },
  Expr: { value: 'expr' },

  // Expressions.
  BoolOp: { op: '#boolop', values: 'expr{2}' },
  NamedExpr: { target: 'name-target', value: 'expr' },
  BinOp: { left: 'expr', op: '#operator', right: 'expr' },
  UnaryOp: { op: '#unaryop', operand: 'expr' },
  Lambda: { args: 'lambda-arguments', body: 'expr' },
  IfExp: { test: 'expr', body: 'expr', orelse: 'expr' },
  Dict: { keys: 'expr?*', values: 'expr*' },
  Set: { elts: 'element+' },
  ListComp: { elt: 'expr', generators: 'comprehension+' },
  SetComp: { elt: 'expr', generators: 'comprehension+' },
  DictComp: { key: 'expr', value: 'expr', generators: 'comprehension+' },
  GeneratorExp: { elt: 'expr', generators: 'comprehension+' },
  Await: { value: 'expr' },
  Yield: { value: 'expr?' },
  YieldFrom: { value: 'expr' },
  Compare: { left: 'expr', ops: '#cmpop+', comparators: 'expr*' },
  Call: { func: 'expr', args: 'element*', keywords: 'keyword*' },
  // TODO: Python 3.11 rejects a backslash, or the f-string's own quote, inside a replacement field, and unparsing nested f-strings can need both. An f-string-expression category that excludes such string constants and nested f-strings would close this gap.
  FormattedValue: { value: 'expr', conversion: '#conversion', format_spec: 'format-spec?' },
  JoinedStr: { values: 'fstring-part*' },
  Constant: { value: '#constant', kind: '$str?' },
  Attribute: { value: 'expr', attr: '#identifier', ctx: 'context' },
  Subscript: { value: 'expr', slice: 'slice', ctx: 'context' },
  Starred: { value: 'expr', ctx: 'context' },
  Name: { id: '#identifier', ctx: 'context' },
  List: { elts: 'element*', ctx: 'context' },
  Tuple: { elts: 'element*', ctx: 'context' },
  Slice: { lower: 'expr?', upper: 'expr?', step: 'expr?' },
  Load: {},
  Store: {},
  Del: {},

  // Other node types.
  comprehension: { target: 'target', iter: 'expr', ifs: 'expr*', is_async: '#async-flag' },
  ExceptHandler: { type: 'expr?', name: '#identifier?', body: 'stmt+' },
  arguments: {
    posonlyargs: 'arg*', args: 'arg*', vararg: 'arg?', kwonlyargs: 'arg*', kw_defaults: 'expr?*', kwarg: 'arg?', defaults: 'expr*',
  },
  arg: { arg: '#identifier', annotation: 'expr?', type_comment: '$str?' },
  keyword: { arg: '#identifier?', value: 'expr' },
  alias: { name: '#dotted-name', asname: '#identifier?' },
  withitem: { context_expr: 'expr', optional_vars: 'target?' },
  match_case: { pattern: 'pattern', guard: 'expr?', body: 'stmt+' },

  // Patterns.
  MatchValue: { value: 'match-value' },
  MatchSingleton: { value: '#singleton-constant' },
  MatchSequence: { patterns: 'sequence-pattern*' },
  MatchMapping: { keys: 'match-value*', patterns: 'pattern*', rest: '#identifier?' },
  MatchClass: { cls: 'dotted-expr', patterns: 'pattern*', kwd_attrs: '#identifier*', kwd_patterns: 'pattern*' },
  MatchStar: { name: '#identifier?' },
  MatchAs: { pattern: 'pattern?', name: '#identifier?' },
  MatchOr: { patterns: 'pattern{2}' },

  // Narrower variants.
  'Tuple@target': { elts: 'target-element*', ctx: 'context' },
  'List@target': { elts: 'target-element*', ctx: 'context' },
  'Starred@target': { value: 'target', ctx: 'context' },
  'Tuple@delete': { elts: 'delete-target*', ctx: 'context' },
  'List@delete': { elts: 'delete-target*', ctx: 'context' },
  'Tuple@slice': { elts: 'slice-element*', ctx: 'context' },
  'arguments@lambda': {
    posonlyargs: 'lambda-arg*', args: 'lambda-arg*', vararg: 'lambda-arg?', kwonlyargs: 'lambda-arg*', kw_defaults: 'expr?*', kwarg: 'lambda-arg?', defaults: 'expr*',
  },
  'arg@lambda': { arg: '#identifier', annotation: 'none', type_comment: '$str?' },
  'ExceptHandler@star': { type: 'expr', name: '#identifier?', body: 'stmt+' },
  'Constant@fstring': { value: '#string-constant', kind: '$str?' },
  'Constant@match': { value: '#match-constant', kind: '$str?' },
  'Constant@number': { value: '#number-constant', kind: '$str?' },
  'Attribute@dotted': { value: 'dotted-expr', attr: '#identifier', ctx: 'context' },
  'UnaryOp@match': { op: '#usub', operand: 'number-constant' },
  'BinOp@match': { left: 'signed-real', op: '#sign-operator', right: 'imaginary-constant' },
  'UnaryOp@real': { op: '#usub', operand: 'real-constant' },
  'Constant@real': { value: '#real-constant', kind: '$str?' },
  'Constant@imaginary': { value: '#imaginary-constant', kind: '$str?' },
  'JoinedStr@spec': { values: 'fstring-part*' },
};

/** Compat mode: Python 3.8 subscripts (`Index`, `ExtSlice`), a cut-out `Starred` context and `level` in the frame. */
const COMPAT_OVERRIDES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Subscript: { value: 'expr', slice: 'compat-slice', ctx: 'context' },
  Index: { value: 'expr' },
  ExtSlice: { dims: 'compat-dimension+' },
  Starred: { value: 'expr', ctx: '#context' },
  'Starred@target': { value: 'target', ctx: '#context' },
  ImportFrom: { module: '#dotted-name?', names: 'alias+', level: '$int' },
};

/** The class variants (or holes) each category admits. */
const CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  mod: ['Module'],
  stmt: [
    'FunctionDef', 'AsyncFunctionDef', 'ClassDef', 'Return', 'Delete', 'Assign', 'AugAssign', 'AnnAssign', 'For', 'AsyncFor', 'While', 'If',
    'With', 'AsyncWith', 'Match', 'Raise', 'Try', 'TryStar', 'Assert', 'Import', 'ImportFrom', 'Global', 'Nonlocal', 'Expr', '#statement-singleton',
  ],
  expr: [
    'BoolOp', 'NamedExpr', 'BinOp', 'UnaryOp', 'Lambda', 'IfExp', 'Dict', 'Set', 'ListComp', 'SetComp', 'DictComp', 'GeneratorExp', 'Await',
    'Yield', 'YieldFrom', 'Compare', 'Call', 'JoinedStr', 'Constant', 'Attribute', 'Subscript', 'Name', 'List', 'Tuple',
  ],
  /** List and tuple elements, call arguments and class bases: expressions or `*value`. */
  element: ['@expr', 'Starred'],
  target: ['Name', 'Attribute', 'Subscript', 'Tuple@target', 'List@target'],
  'target-element': ['@target', 'Starred@target'],
  'single-target': ['Name', 'Attribute', 'Subscript'],
  'name-target': ['Name'],
  'delete-target': ['Name', 'Attribute', 'Subscript', 'Tuple@delete', 'List@delete'],
  slice: ['@expr', 'Slice', 'Tuple@slice'],
  'slice-element': ['@element', 'Slice'],
  'compat-slice': ['Index', 'ExtSlice', 'Slice'],
  'compat-dimension': ['Index', 'Slice'],
  context: ['Load', 'Store', 'Del'],
  'fstring-part': ['Constant@fstring', 'FormattedValue'],
  'format-spec': ['JoinedStr@spec'],
  comprehension: ['comprehension'],
  excepthandler: ['ExceptHandler'],
  'star-excepthandler': ['ExceptHandler@star'],
  arguments: ['arguments'],
  'lambda-arguments': ['arguments@lambda'],
  arg: ['arg'],
  'lambda-arg': ['arg@lambda'],
  keyword: ['keyword'],
  alias: ['alias'],
  withitem: ['withitem'],
  match_case: ['match_case'],
  pattern: ['MatchValue', 'MatchSingleton', 'MatchSequence', 'MatchMapping', 'MatchClass', 'MatchAs', 'MatchOr'],
  'sequence-pattern': ['@pattern', 'MatchStar'],
  /** Values a `case` clause compares against: constants, negative numbers and dotted names. */
  'match-value': ['Constant@match', 'UnaryOp@match', 'BinOp@match', 'Attribute@dotted'],
  'signed-real': ['Constant@real', 'UnaryOp@real'],
  'real-constant': ['Constant@real'],
  'imaginary-constant': ['Constant@imaginary'],
  'dotted-expr': ['Name', 'Attribute@dotted'],
  'number-constant': ['Constant@number'],
  /** Admits nothing, so a list of it is always empty. */
  never: [],
};

export interface SchemaTables {
  /** Field name → kind spelling, per class variant, in `_fields` order. */
  fields: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Category → admitted variants and holes, with `@category` references expanded. */
  categories: ReadonlyMap<string, readonly string[]>;
}

/** Returns the schema tables for a tokenizer mode. */
export function schemaTables(mode: TokenizerMode): SchemaTables {
  const fields = mode === 'compat' ? { ...LOSSLESS_FIELDS, ...COMPAT_OVERRIDES } : LOSSLESS_FIELDS;
  const categories = new Map<string, readonly string[]>();
  const expand = (name: string, seen: Set<string>): string[] => {
    const entries = CATEGORIES[name];
    if (entries === undefined) throw new Error(`frame grammar: unknown category ${name}`);
    if (seen.has(name)) throw new Error(`frame grammar: category ${name} includes itself`);
    seen.add(name);
    return entries.flatMap((entry) => (entry.startsWith('@') ? expand(entry.slice(1), seen) : [entry]));
  };
  for (const name of Object.keys(CATEGORIES)) categories.set(name, expand(name, new Set()));
  return { fields, categories };
}

/** Returns the class name of a variant (`Tuple@target` → `Tuple`). */
export function classOfVariant(variant: string): string {
  const at = variant.indexOf('@');
  return at < 0 ? variant : variant.slice(0, at);
}
