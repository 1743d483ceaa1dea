/**
 * A Python syntax tree shaped like CPython 3.11's `ast` module: the same node
 * class names and the same `_fields` order, so a full-field dump of this tree
 * reads like the output of a dumper run on `ast.parse` in Python 3.11.
 */

/** A constant value as CPython stores it in `Constant.value`, tagged with its Python type. */
export type PyConstant =
  | { readonly py: 'str'; readonly value: string }
  | { readonly py: 'bytes'; readonly value: readonly number[] }
  | { readonly py: 'int'; readonly value: bigint }
  | { readonly py: 'float'; readonly value: number }
  /** An imaginary literal such as `2j`; `value` is the imaginary part. */
  | { readonly py: 'complex'; readonly value: number }
  | { readonly py: 'bool'; readonly value: boolean }
  | { readonly py: 'None' }
  | { readonly py: 'Ellipsis' };

/**
 * A field value. Identifiers (`Name.id`, `arg.arg`, …) are plain strings,
 * small integer fields (`level`, `is_async`, `conversion`, `simple`) are
 * numbers, and an absent optional field is `null`.
 */
export type AstValue = AstNode | AstValue[] | PyConstant | string | number | null;

export interface AstNode {
  readonly _type: string;
  [field: string]: AstValue;
}

/** `_fields` of every concrete node class of Python 3.11's `ast` module that sculpt handles. */
export const NODE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Module: ['body', 'type_ignores'],
  FunctionDef: ['name', 'args', 'body', 'decorator_list', 'returns', 'type_comment'],
  AsyncFunctionDef: ['name', 'args', 'body', 'decorator_list', 'returns', 'type_comment'],
  ClassDef: ['name', 'bases', 'keywords', 'body', 'decorator_list'],
  Return: ['value'],
  Delete: ['targets'],
  Assign: ['targets', 'value', 'type_comment'],
  AugAssign: ['target', 'op', 'value'],
  AnnAssign: ['target', 'annotation', 'value', 'simple'],
  For: ['target', 'iter', 'body', 'orelse', 'type_comment'],
  AsyncFor: ['target', 'iter', 'body', 'orelse', 'type_comment'],
  While: ['test', 'body', 'orelse'],
  If: ['test', 'body', 'orelse'],
  With: ['items', 'body', 'type_comment'],
  AsyncWith: ['items', 'body', 'type_comment'],
  Match: ['subject', 'cases'],
  Raise: ['exc', 'cause'],
  Try: ['body', 'handlers', 'orelse', 'finalbody'],
  TryStar: ['body', 'handlers', 'orelse', 'finalbody'],
  Assert: ['test', 'msg'],
  Import: ['names'],
  ImportFrom: ['module', 'names', 'level'],
  Global: ['names'],
  Nonlocal: ['names'],
  Expr: ['value'],
  Pass: [],
  Break: [],
  Continue: [],
  BoolOp: ['op', 'values'],
  NamedExpr: ['target', 'value'],
  BinOp: ['left', 'op', 'right'],
  UnaryOp: ['op', 'operand'],
  Lambda: ['args', 'body'],
  IfExp: ['test', 'body', 'orelse'],
  Dict: ['keys', 'values'],
  Set: ['elts'],
  ListComp: ['elt', 'generators'],
  SetComp: ['elt', 'generators'],
  DictComp: ['key', 'value', 'generators'],
  GeneratorExp: ['elt', 'generators'],
  Await: ['value'],
  Yield: ['value'],
  YieldFrom: ['value'],
  Compare: ['left', 'ops', 'comparators'],
  Call: ['func', 'args', 'keywords'],
  FormattedValue: ['value', 'conversion', 'format_spec'],
  JoinedStr: ['values'],
  Constant: ['value', 'kind'],
  Attribute: ['value', 'attr', 'ctx'],
  Subscript: ['value', 'slice', 'ctx'],
  Starred: ['value', 'ctx'],
  Name: ['id', 'ctx'],
  List: ['elts', 'ctx'],
  Tuple: ['elts', 'ctx'],
  Slice: ['lower', 'upper', 'step'],
  Load: [],
  Store: [],
  Del: [],
  And: [],
  Or: [],
  Add: [],
  Sub: [],
  Mult: [],
  MatMult: [],
  Div: [],
  Mod: [],
  Pow: [],
  LShift: [],
  RShift: [],
  BitOr: [],
  BitXor: [],
  BitAnd: [],
  FloorDiv: [],
  Invert: [],
  Not: [],
  UAdd: [],
  USub: [],
  Eq: [],
  NotEq: [],
  Lt: [],
  LtE: [],
  Gt: [],
  GtE: [],
  Is: [],
  IsNot: [],
  In: [],
  NotIn: [],
  comprehension: ['target', 'iter', 'ifs', 'is_async'],
  ExceptHandler: ['type', 'name', 'body'],
  arguments: ['posonlyargs', 'args', 'vararg', 'kwonlyargs', 'kw_defaults', 'kwarg', 'defaults'],
  arg: ['arg', 'annotation', 'type_comment'],
  keyword: ['arg', 'value'],
  alias: ['name', 'asname'],
  withitem: ['context_expr', 'optional_vars'],
  match_case: ['pattern', 'guard', 'body'],
  MatchValue: ['value'],
  /** `value` is the constant None, True or False itself, not a `Constant` node. */
  MatchSingleton: ['value'],
  MatchSequence: ['patterns'],
  MatchMapping: ['keys', 'patterns', 'rest'],
  MatchClass: ['cls', 'patterns', 'kwd_attrs', 'kwd_patterns'],
  MatchStar: ['name'],
  MatchAs: ['pattern', 'name'],
  MatchOr: ['patterns'],
  // Python 3.8 shapes, used only by the compat tokenizer mode.
  Index: ['value'],
  ExtSlice: ['dims'],
};

/**
 * The 35 zero-field classes that the reference tokenizer treats as content
 * tokens: operators, comparison operators, the expression contexts and the
 * three statements without fields.
 */
export const SINGLETON_CLASSES: ReadonlySet<string> = new Set([
  'Add', 'Sub', 'Mult', 'Div', 'FloorDiv', 'Mod', 'Pow', 'LShift', 'RShift', 'BitOr', 'BitXor', 'BitAnd', 'MatMult',
  'And', 'Or', 'Not', 'Invert', 'UAdd', 'USub',
  'Eq', 'NotEq', 'Lt', 'LtE', 'Gt', 'GtE', 'Is', 'IsNot', 'In', 'NotIn',
  'Load', 'Store', 'Del', 'Pass', 'Break', 'Continue',
]);

export const CONTEXT_CLASSES: ReadonlySet<string> = new Set(['Load', 'Store', 'Del']);

/** Builds a node, checking that every field of its class is given and no other. */
export function makeNode(type: string, fields: Record<string, AstValue> = {}): AstNode {
  const names = NODE_FIELDS[type];
  if (names === undefined) throw new Error(`unknown AST node class ${type}`);
  const node: AstNode = { _type: type };
  for (const name of names) {
    const value = fields[name];
    if (value === undefined) throw new Error(`AST node ${type} is missing field ${name}`);
    node[name] = value;
  }
  return node;
}

export function isAstNode(value: AstValue | undefined): value is AstNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && '_type' in value;
}

export function isPyConstant(value: AstValue | undefined): value is PyConstant {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'py' in value;
}

export function fieldsOf(node: AstNode): readonly string[] {
  const names = NODE_FIELDS[node._type];
  if (names === undefined) throw new Error(`unknown AST node class ${node._type}`);
  return names;
}

export const str = (value: string): PyConstant => ({ py: 'str', value });
