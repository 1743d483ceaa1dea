/**
 * Syntax tree back to Python source: 4-space indentation and only the
 * parentheses that operator precedence and associativity require (plus
 * always around tuples, yields and `:=`, where they never change the tree).
 * Correctness is defined by CPython: `ast.parse(unparse(tree))` gives `tree` back.
 */
import { isAstNode, isPyConstant, type AstNode, type AstValue, type PyConstant } from './nodes.js';
import { pyBytesRepr, pyComplexRepr, pyFloatRepr, pyStrRepr } from './literals.js';

/** Operator precedence levels, lowest first, as in Python's grammar. */
const enum Prec {
  Tuple = 1,
  Yield,
  Test,
  Or,
  And,
  Not,
  Cmp,
  BitOr,
  BitXor,
  BitAnd,
  Shift,
  Arith,
  Term,
  Factor,
  Power,
  /** `await x`: binds tighter than `**` and takes a primary as its operand. */
  Await,
  Atom,
}

const BINARY: Readonly<Record<string, [string, Prec]>> = {
  Add: ['+', Prec.Arith], Sub: ['-', Prec.Arith], Mult: ['*', Prec.Term], MatMult: ['@', Prec.Term],
  Div: ['/', Prec.Term], Mod: ['%', Prec.Term], FloorDiv: ['//', Prec.Term], Pow: ['**', Prec.Power],
  LShift: ['<<', Prec.Shift], RShift: ['>>', Prec.Shift], BitOr: ['|', Prec.BitOr], BitXor: ['^', Prec.BitXor],
  BitAnd: ['&', Prec.BitAnd],
};
const UNARY: Readonly<Record<string, string>> = { UAdd: '+', USub: '-', Invert: '~', Not: 'not ' };
const COMPARE: Readonly<Record<string, string>> = {
  Eq: '==', NotEq: '!=', Lt: '<', LtE: '<=', Gt: '>', GtE: '>=', Is: 'is', IsNot: 'is not', In: 'in', NotIn: 'not in',
};

const INDENT = '    ';

/** Returns Python source for a `Module` (or any statement list). */
export function unparse(module: AstNode): string {
  const lines: string[] = [];
  statements(module.body as AstNode[], 0, lines);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/** Returns Python source for one expression node. */
export function unparseExpression(node: AstNode): string {
  return expr(node, Prec.Tuple);
}

function nodes(value: AstValue): AstNode[] {
  return value as AstNode[];
}

function opt(value: AstValue): AstNode | null {
  return isAstNode(value) ? value : null;
}

// ---- statements ----

function statements(body: AstNode[], depth: number, lines: string[]): void {
  for (const node of body) statement(node, depth, lines);
}

function block(header: string, body: AstNode[], depth: number, lines: string[]): void {
  lines.push(INDENT.repeat(depth) + header + ':');
  statements(body, depth + 1, lines);
}

function statement(node: AstNode, depth: number, lines: string[]): void {
  const pad = INDENT.repeat(depth);
  const line = (text: string): void => void lines.push(pad + text);
  switch (node._type) {
    case 'Expr':
      return line(expr(node.value as AstNode, Prec.Yield));
    case 'Assign':
      return line([...nodes(node.targets).map((t) => expr(t, Prec.Tuple)), expr(node.value as AstNode, Prec.Yield)].join(' = '));
    case 'AugAssign':
      return line(`${expr(node.target as AstNode, Prec.Tuple)} ${BINARY[(node.op as AstNode)._type][0]}= ${expr(node.value as AstNode, Prec.Yield)}`);
    case 'AnnAssign': {
      const target = node.target as AstNode;
      // A non-simple Name target was written in parentheses; `simple` records that.
      const targetText = node.simple === 0 && target._type === 'Name' ? `(${expr(target, Prec.Tuple)})` : expr(target, Prec.Tuple);
      const value = opt(node.value);
      return line(`${targetText}: ${expr(node.annotation as AstNode, Prec.Test)}${value === null ? '' : ` = ${expr(value, Prec.Yield)}`}`);
    }
    case 'Return': {
      const value = opt(node.value);
      return line(value === null ? 'return' : `return ${expr(value, Prec.Tuple)}`);
    }
    case 'Delete':
      return line(`del ${nodes(node.targets).map((t) => expr(t, Prec.Test)).join(', ')}`);
    case 'Pass':
    case 'Break':
    case 'Continue':
      return line(node._type.toLowerCase());
    case 'Raise': {
      const exc = opt(node.exc);
      const cause = opt(node.cause);
      return line(`raise${exc === null ? '' : ' ' + expr(exc, Prec.Test)}${cause === null ? '' : ' from ' + expr(cause, Prec.Test)}`);
    }
    case 'Assert': {
      const msg = opt(node.msg);
      return line(`assert ${expr(node.test as AstNode, Prec.Test)}${msg === null ? '' : ', ' + expr(msg, Prec.Test)}`);
    }
    case 'Global':
    case 'Nonlocal':
      return line(`${node._type.toLowerCase()} ${(node.names as string[]).join(', ')}`);
    case 'Import':
      return line(`import ${nodes(node.names).map(alias).join(', ')}`);
    case 'ImportFrom': {
      const dots = '.'.repeat(node.level as number);
      const module = node.module === null ? '' : (node.module as string);
      return line(`from ${dots}${module} import ${nodes(node.names).map(alias).join(', ')}`);
    }
    case 'If':
      return ifStatement(node, depth, lines, 'if');
    case 'While':
      block(`while ${expr(node.test as AstNode, Prec.Test)}`, nodes(node.body), depth, lines);
      return elseBlock(nodes(node.orelse), depth, lines);
    case 'For':
    case 'AsyncFor':
      block(`${node._type === 'AsyncFor' ? 'async ' : ''}for ${expr(node.target as AstNode, Prec.Tuple)} in ${expr(node.iter as AstNode, Prec.Tuple)}`, nodes(node.body), depth, lines);
      return elseBlock(nodes(node.orelse), depth, lines);
    case 'With':
    case 'AsyncWith': {
      const items = nodes(node.items).map((item) => {
        const vars = opt(item.optional_vars);
        return expr(item.context_expr as AstNode, Prec.Test) + (vars === null ? '' : ` as ${expr(vars, Prec.Tuple)}`);
      });
      return block(`${node._type === 'AsyncWith' ? 'async ' : ''}with ${items.join(', ')}`, nodes(node.body), depth, lines);
    }
    case 'Try':
    case 'TryStar':
      return tryStatement(node, depth, lines);
    case 'Match':
      return matchStatement(node, depth, lines);
    case 'FunctionDef':
    case 'AsyncFunctionDef':
      return functionDef(node, depth, lines);
    case 'ClassDef':
      return classDef(node, depth, lines);
    default:
      throw new Error(`cannot unparse statement ${node._type}`);
  }
}

function alias(node: AstNode): string {
  return node.asname === null ? (node.name as string) : `${node.name as string} as ${node.asname as string}`;
}

function elseBlock(orelse: AstNode[], depth: number, lines: string[]): void {
  if (orelse.length > 0) block('else', orelse, depth, lines);
}

function ifStatement(node: AstNode, depth: number, lines: string[], keyword: 'if' | 'elif'): void {
  block(`${keyword} ${expr(node.test as AstNode, Prec.Test)}`, nodes(node.body), depth, lines);
  const orelse = nodes(node.orelse);
  // A lone If in the else branch is written as `elif`; both spellings give the same tree.
  if (orelse.length === 1 && orelse[0]._type === 'If') ifStatement(orelse[0], depth, lines, 'elif');
  else elseBlock(orelse, depth, lines);
}

function tryStatement(node: AstNode, depth: number, lines: string[]): void {
  block('try', nodes(node.body), depth, lines);
  for (const handler of nodes(node.handlers)) {
    const type = opt(handler.type);
    let header = node._type === 'TryStar' ? 'except*' : 'except';
    if (type !== null) header += ' ' + expr(type, Prec.Test);
    if (handler.name !== null) header += ` as ${handler.name as string}`;
    block(header, nodes(handler.body), depth, lines);
  }
  elseBlock(nodes(node.orelse), depth, lines);
  const finalbody = nodes(node.finalbody);
  if (finalbody.length > 0) block('finally', finalbody, depth, lines);
}

function matchStatement(node: AstNode, depth: number, lines: string[]): void {
  lines.push(`${INDENT.repeat(depth)}match ${expr(node.subject as AstNode, Prec.Tuple)}:`);
  for (const matchCase of nodes(node.cases)) {
    const guard = opt(matchCase.guard);
    const header = `case ${patternText(matchCase.pattern as AstNode, false)}${guard === null ? '' : ' if ' + expr(guard, Prec.Test)}`;
    block(header, nodes(matchCase.body), depth + 1, lines);
  }
}

/**
 * Returns the source text of a case pattern. With `closed` set, the text must
 * be valid as an alternative of `|` or before `as`, so or-patterns and
 * as-patterns get parentheses. CPython reads those parentheses as grouping only.
 */
function patternText(node: AstNode, closed: boolean): string {
  const group = (text: string): string => (closed ? `(${text})` : text);
  switch (node._type) {
    case 'MatchValue':
      return expr(node.value as AstNode, Prec.Test);
    case 'MatchSingleton':
      return constantText(node.value as PyConstant, null);
    case 'MatchSequence':
      return `[${nodes(node.patterns).map((p) => patternText(p, false)).join(', ')}]`;
    case 'MatchStar':
      return `*${node.name === null ? '_' : (node.name as string)}`;
    case 'MatchMapping': {
      const keys = nodes(node.keys);
      const items = nodes(node.patterns).map((p, i) => `${expr(keys[i], Prec.Test)}: ${patternText(p, false)}`);
      if (node.rest !== null) items.push(`**${node.rest as string}`);
      return `{${items.join(', ')}}`;
    }
    case 'MatchClass': {
      const positional = nodes(node.patterns).map((p) => patternText(p, false));
      const attrs = node.kwd_attrs as string[];
      const named = nodes(node.kwd_patterns).map((p, i) => `${attrs[i]}=${patternText(p, false)}`);
      return `${expr(node.cls as AstNode, Prec.Atom)}(${[...positional, ...named].join(', ')})`;
    }
    case 'MatchAs': {
      const inner = opt(node.pattern);
      const name = node.name === null ? '_' : (node.name as string);
      return inner === null ? name : group(`${patternText(inner, true)} as ${name}`);
    }
    case 'MatchOr':
      return group(nodes(node.patterns).map((p) => patternText(p, true)).join(' | '));
    default:
      throw new Error(`cannot unparse pattern ${node._type}`);
  }
}

function decorators(node: AstNode, depth: number, lines: string[]): void {
  for (const decorator of nodes(node.decorator_list)) lines.push(`${INDENT.repeat(depth)}@${expr(decorator, Prec.Test)}`);
}

function functionDef(node: AstNode, depth: number, lines: string[]): void {
  decorators(node, depth, lines);
  const returns = opt(node.returns);
  const keyword = node._type === 'AsyncFunctionDef' ? 'async def' : 'def';
  const header = `${keyword} ${node.name as string}(${argumentsText(node.args as AstNode, true)})${returns === null ? '' : ' -> ' + expr(returns, Prec.Test)}`;
  block(header, nodes(node.body), depth, lines);
}

function classDef(node: AstNode, depth: number, lines: string[]): void {
  decorators(node, depth, lines);
  const parts = [...nodes(node.bases).map((b) => expr(b, Prec.Test)), ...nodes(node.keywords).map(keyword)];
  block(`class ${node.name as string}${parts.length === 0 ? '' : `(${parts.join(', ')})`}`, nodes(node.body), depth, lines);
}

/** Parameter list text; `annotated` is false for lambdas, which cannot carry annotations. */
function argumentsText(args: AstNode, annotated: boolean): string {
  const parts: string[] = [];
  const param = (arg: AstNode, defaultValue: AstNode | null): string => {
    const annotation = annotated ? opt(arg.annotation) : null;
    let text = arg.arg as string;
    if (annotation !== null) text += ': ' + expr(annotation, Prec.Test);
    if (defaultValue !== null) text += (annotation !== null ? ' = ' : '=') + expr(defaultValue, Prec.Test);
    return text;
  };
  const positional = [...nodes(args.posonlyargs), ...nodes(args.args)];
  const defaults = nodes(args.defaults);
  // `defaults` belong to the last positional parameters.
  const firstDefault = positional.length - defaults.length;
  positional.forEach((arg, i) => {
    parts.push(param(arg, i >= firstDefault ? defaults[i - firstDefault] : null));
    if (i === nodes(args.posonlyargs).length - 1) parts.push('/');
  });
  const vararg = opt(args.vararg);
  const kwonly = nodes(args.kwonlyargs);
  if (vararg !== null) parts.push('*' + param(vararg, null));
  else if (kwonly.length > 0) parts.push('*');
  const kwDefaults = args.kw_defaults as (AstNode | null)[];
  kwonly.forEach((arg, i) => parts.push(param(arg, kwDefaults[i] ?? null)));
  const kwarg = opt(args.kwarg);
  if (kwarg !== null) parts.push('**' + param(kwarg, null));
  return parts.join(', ');
}

function keyword(node: AstNode): string {
  const value = expr(node.value as AstNode, Prec.Test);
  return node.arg === null ? `**${expr(node.value as AstNode, Prec.BitOr)}` : `${node.arg as string}=${value}`;
}

// ---- expressions ----

function wrap(text: string, own: Prec, required: Prec): string {
  return own < required ? `(${text})` : text;
}

function expr(node: AstNode, required: Prec): string {
  switch (node._type) {
    case 'Name':
      return node.id as string;
    case 'Constant':
      return constantText(node.value as PyConstant, node.kind as string | null);
    case 'BinOp': {
      const [symbol, prec] = BINARY[(node.op as AstNode)._type];
      // Left-associative operators need parentheses on an equal-precedence right operand; `**` on the left one.
      const rightAssoc = symbol === '**';
      const left = expr(node.left as AstNode, rightAssoc ? prec + 1 : prec);
      const right = expr(node.right as AstNode, rightAssoc ? prec : prec + 1);
      return wrap(`${left} ${symbol} ${right}`, prec, required);
    }
    case 'UnaryOp': {
      const opName = (node.op as AstNode)._type;
      const prec = opName === 'Not' ? Prec.Not : Prec.Factor;
      return wrap(UNARY[opName] + expr(node.operand as AstNode, prec), prec, required);
    }
    case 'BoolOp': {
      const isAnd = (node.op as AstNode)._type === 'And';
      const prec = isAnd ? Prec.And : Prec.Or;
      const text = nodes(node.values).map((v) => expr(v, prec + 1)).join(isAnd ? ' and ' : ' or ');
      return wrap(text, prec, required);
    }
    case 'Compare': {
      let text = expr(node.left as AstNode, Prec.Cmp + 1);
      nodes(node.ops).forEach((opNode, i) => {
        text += ` ${COMPARE[opNode._type]} ${expr(nodes(node.comparators)[i], Prec.Cmp + 1)}`;
      });
      return wrap(text, Prec.Cmp, required);
    }
    case 'IfExp': {
      const text = `${expr(node.body as AstNode, Prec.Test + 1)} if ${expr(node.test as AstNode, Prec.Test + 1)} else ${expr(node.orelse as AstNode, Prec.Test)}`;
      return wrap(text, Prec.Test, required);
    }
    case 'Lambda': {
      const params = argumentsText(node.args as AstNode, false);
      return wrap(`lambda${params === '' ? '' : ' ' + params}: ${expr(node.body as AstNode, Prec.Test)}`, Prec.Test, required);
    }
    case 'NamedExpr':
      return `(${expr(node.target as AstNode, Prec.Atom)} := ${expr(node.value as AstNode, Prec.Test)})`;
    case 'Tuple':
      return `(${tupleItems(nodes(node.elts))})`;
    case 'List':
      return `[${nodes(node.elts).map((e) => expr(e, Prec.Test)).join(', ')}]`;
    case 'Set':
      // An empty set has no display syntax; `{*()}` is the expression CPython's unparser uses.
      return nodes(node.elts).length === 0 ? '{*()}' : `{${nodes(node.elts).map((e) => expr(e, Prec.Test)).join(', ')}}`;
    case 'Dict': {
      const keys = node.keys as (AstNode | null)[];
      const items = nodes(node.values).map((value, i) => {
        const key = keys[i];
        return key === null ? `**${expr(value, Prec.BitOr)}` : `${expr(key, Prec.Test)}: ${expr(value, Prec.Test)}`;
      });
      return `{${items.join(', ')}}`;
    }
    case 'ListComp':
      return `[${expr(node.elt as AstNode, Prec.Test)}${generators(node)}]`;
    case 'SetComp':
      return `{${expr(node.elt as AstNode, Prec.Test)}${generators(node)}}`;
    case 'GeneratorExp':
      return `(${expr(node.elt as AstNode, Prec.Test)}${generators(node)})`;
    case 'DictComp':
      return `{${expr(node.key as AstNode, Prec.Test)}: ${expr(node.value as AstNode, Prec.Test)}${generators(node)}}`;
    case 'Yield': {
      const value = opt(node.value);
      return value === null ? '(yield)' : `(yield ${expr(value, Prec.Tuple)})`;
    }
    case 'Await':
      return wrap(`await ${expr(node.value as AstNode, Prec.Atom)}`, Prec.Await, required);
    case 'YieldFrom':
      return `(yield from ${expr(node.value as AstNode, Prec.Test)})`;
    case 'Call': {
      const args = [...nodes(node.args).map((a) => expr(a, Prec.Test)), ...nodes(node.keywords).map(keyword)];
      return `${expr(node.func as AstNode, Prec.Atom)}(${args.join(', ')})`;
    }
    case 'Attribute': {
      const value = node.value as AstNode;
      let text = expr(value, Prec.Atom);
      // `1.real` would lex as a float; an int literal needs parentheses before the dot.
      if (value._type === 'Constant' && (value.value as PyConstant).py === 'int') text = `(${text})`;
      return `${text}.${node.attr as string}`;
    }
    case 'Subscript':
      return `${expr(node.value as AstNode, Prec.Atom)}[${sliceText(node.slice as AstNode)}]`;
    case 'Starred':
      return `*${expr(node.value as AstNode, Prec.BitOr)}`;
    case 'Slice':
      return sliceText(node);
    case 'JoinedStr':
      return joinedStr(node);
    default:
      throw new Error(`cannot unparse expression ${node._type}`);
  }
}

function tupleItems(elts: AstNode[]): string {
  if (elts.length === 1) return expr(elts[0], Prec.Test) + ',';
  return elts.map((e) => expr(e, Prec.Test)).join(', ');
}

function sliceText(node: AstNode): string {
  if (node._type === 'Slice') {
    const part = (value: AstValue): string => (isAstNode(value) ? expr(value, Prec.Test) : '');
    const step = opt(node.step);
    return `${part(node.lower)}:${part(node.upper)}${step === null ? '' : ':' + part(step)}`;
  }
  // A tuple subscript is written without parentheses so that it may contain slices.
  if (node._type === 'Tuple' && nodes(node.elts).length > 0) {
    const elts = nodes(node.elts);
    // Only slices go bare: a nested tuple keeps its parentheses, or `a[x, (3, 5)]` would read as `a[x, 3, 5]`.
    const items = elts.map((e) => (e._type === 'Slice' ? sliceText(e) : expr(e, Prec.Test)));
    return elts.length === 1 ? items[0] + ',' : items.join(', ');
  }
  return expr(node, Prec.Test);
}

function generators(node: AstNode): string {
  let text = '';
  for (const gen of nodes(node.generators)) {
    text += `${gen.is_async === 1 ? ' async' : ''} for ${expr(gen.target as AstNode, Prec.Tuple)} in ${expr(gen.iter as AstNode, Prec.Test + 1)}`;
    for (const condition of nodes(gen.ifs)) text += ` if ${expr(condition, Prec.Test + 1)}`;
  }
  return text;
}

function constantText(value: PyConstant, kind: string | null): string {
  switch (value.py) {
    case 'str':
      return (kind === 'u' ? 'u' : '') + pyStrRepr(value.value);
    case 'bytes':
      return pyBytesRepr(value.value);
    case 'int':
      return value.value.toString();
    case 'float':
      // repr(inf) is not a literal; 1e309 overflows to inf when CPython reads it.
      return Number.isFinite(value.value) ? pyFloatRepr(value.value) : '1e309';
    case 'complex':
      return Number.isFinite(value.value) ? pyComplexRepr(value.value) : '1e309j';
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'None':
      return 'None';
    case 'Ellipsis':
      return '...';
  }
}

// ---- f-strings ----

const QUOTES = ["'", '"', "'''", '"""'];

/** Text between the quotes of an f-string, collecting the expression texts it contains. */
function fstringBody(values: AstNode[], expressions: string[]): string {
  let body = '';
  for (const value of values) {
    if (value._type === 'Constant') {
      body += fstringLiteral((value.value as PyConstant & { py: 'str' }).value);
      continue;
    }
    let text = expr(value.value as AstNode, Prec.Test + 1);
    // `{{` would read as an escaped brace, so an expression starting with '{' gets a space.
    if (text.startsWith('{')) text = ' ' + text;
    expressions.push(text);
    const conversion = value.conversion as number;
    let field = '{' + text;
    if (conversion !== -1) field += '!' + String.fromCharCode(conversion);
    const spec = opt(value.format_spec);
    if (spec !== null) field += ':' + fstringBody(nodes(spec.values), expressions);
    body += field + '}';
  }
  return body;
}

function fstringLiteral(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '{' || ch === '}') out += ch + ch;
    else if (ch === '\\' || ch === "'" || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else {
      const code = ch.codePointAt(0)!;
      out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
    }
  }
  return out;
}

function joinedStr(node: AstNode): string {
  const expressions: string[] = [];
  const body = fstringBody(nodes(node.values), expressions);
  // Before Python 3.12 an expression inside an f-string may not contain the f-string's own quote.
  const quote = QUOTES.find((q) => expressions.every((e) => !e.includes(q[0]))) ?? QUOTES.find((q) => expressions.every((e) => !e.includes(q)));
  if (quote === undefined) throw new Error('cannot quote an f-string whose expressions use every quote style');
  return `f${quote}${body}${quote}`;
}
