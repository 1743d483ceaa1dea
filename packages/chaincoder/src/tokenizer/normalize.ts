/**
 * Content normalizations applied to the tree before it is split into tokens:
 * identifier renaming by pools, docstring emptying, and (compat mode) the
 * Python 3.8 shapes and dropped fields of the reference tokenizer.
 */
import { InputError } from '@sculpt/core';
import { isAstNode, makeNode, str, type AstNode, type AstValue } from '../ast/nodes.js';
import { BUILTIN_NAMES } from './builtin-names.js';
import { IDENTIFIER_FIELDS } from './frame.js';
import type { TokenizerMode } from './modes.js';

/** The solution-function name the reference keeps unrenamed. */
export const WRAPPER_FUNCTION_NAME = 'syntax_transformer_wrap_func';

/** Renaming pools in priority order: a name defined as a class, else a function, else a parameter, else anything else. */
export const NAME_POOLS = ['Class', 'func', 'var_in', 'var'] as const;
export type NamePool = (typeof NAME_POOLS)[number];

/** A program defines more distinct names of one kind than its pool holds. */
export class PoolOverflowError extends InputError {
  constructor(
    readonly pool: NamePool,
    readonly limit: number,
    file?: string,
  ) {
    super(`the program needs more than ${limit} '${pool}_i' names; raise the pool size or drop the program`, file);
  }
}

/** Copies a tree bottom-up, letting `visit` replace each node after its children were copied. */
export function mapTree(value: AstValue, visit: (node: AstNode) => AstNode): AstValue {
  if (Array.isArray(value)) return value.map((item) => mapTree(item, visit));
  if (!isAstNode(value)) return value;
  const copy: AstNode = { _type: value._type };
  for (const [field, child] of Object.entries(value)) if (field !== '_type') copy[field] = mapTree(child, visit);
  return visit(copy);
}

/** Calls `visit` on every node in dump order (a node before its fields, fields in `_fields` order). */
export function walkTree(value: AstValue, visit: (node: AstNode) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walkTree(item, visit);
    return;
  }
  if (!isAstNode(value)) return;
  visit(value);
  for (const [field, child] of Object.entries(value)) if (field !== '_type') walkTree(child, visit);
}

/** Identifier strings of a node, in field order. */
function identifiersOf(node: AstNode): string[] {
  const out: string[] = [];
  for (const field of IDENTIFIER_FIELDS[node._type] ?? []) {
    const value = node[field];
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') out.push(item);
  }
  return out;
}

/** Returns the name at the root of an attribute/call/subscript chain, e.g. `np` in `np.linalg.norm(x)[0]`. */
function chainRoot(node: AstNode): string | null {
  let current: AstValue = node;
  while (isAstNode(current)) {
    if (current._type === 'Name') return current.id as string;
    if (current._type === 'Attribute' || current._type === 'Subscript') current = current.value;
    else if (current._type === 'Call') current = current.func;
    else return null;
  }
  return null;
}

/**
 * Collects the names that must keep their spelling: builtins, names bound or
 * spelled by imports, attributes reached from an imported name (`math.sqrt`,
 * `np.linalg.norm`), and in lossless mode keyword names of calls to kept
 * callables (`print(x, end='')`).
 */
export function keptNames(tree: AstNode, mode: TokenizerMode): Set<string> {
  const kept = new Set<string>([...BUILTIN_NAMES, WRAPPER_FUNCTION_NAME]);
  const imported = new Set<string>();
  walkTree(tree, (node) => {
    if (node._type === 'alias') {
      for (const part of (node.name as string).split('.')) imported.add(part);
      kept.add(node.name as string);
      if (node.asname !== null) imported.add(node.asname as string);
    } else if (node._type === 'ImportFrom' && node.module !== null) {
      kept.add(node.module as string);
      for (const part of (node.module as string).split('.')) imported.add(part);
    }
  });
  for (const name of imported) kept.add(name);

  // Attributes reached from an imported name are that module's API names, not program-chosen names.
  walkTree(tree, (node) => {
    if (node._type !== 'Attribute') return;
    const root = chainRoot(node.value as AstNode);
    if (root !== null && imported.has(root)) kept.add(node.attr as string);
  });

  if (mode === 'lossless') {
    walkTree(tree, (node) => {
      if (node._type !== 'Call') return;
      const func = node.func as AstNode;
      let callee: string | null = null;
      if (func._type === 'Name') callee = func.id as string;
      else if (func._type === 'Attribute') callee = func.attr as string;
      if (callee === null || !kept.has(callee)) return;
      for (const keyword of node.keywords as AstNode[]) if (keyword.arg !== null) kept.add(keyword.arg as string);
    });
  }
  return kept;
}

/** Assigns pool names (`var_0`, `func_0`, …) to every non-kept identifier, in order of first appearance. */
export function computeRenames(
  tree: AstNode,
  options: { mode: TokenizerMode; poolSize: number; file?: string },
): Map<string, string> {
  const kept = keptNames(tree, options.mode);
  const classes = new Set<string>();
  const functions = new Set<string>();
  const parameters = new Set<string>();
  walkTree(tree, (node) => {
    if (node._type === 'ClassDef') classes.add(node.name as string);
    else if (node._type === 'FunctionDef' || node._type === 'AsyncFunctionDef') functions.add(node.name as string);
    else if (node._type === 'arg') parameters.add(node.arg as string);
  });
  const counters: Record<NamePool, number> = { Class: 0, func: 0, var_in: 0, var: 0 };
  const renames = new Map<string, string>();
  walkTree(tree, (node) => {
    for (const name of identifiersOf(node)) {
      if (kept.has(name) || renames.has(name)) continue;
      const pool: NamePool = classes.has(name) ? 'Class' : functions.has(name) ? 'func' : parameters.has(name) ? 'var_in' : 'var';
      if (counters[pool] >= options.poolSize) throw new PoolOverflowError(pool, options.poolSize, options.file);
      renames.set(name, `${pool}_${counters[pool]++}`);
    }
  });
  return renames;
}

/** Applies a rename map to every identifier field and empties every `Expr(Constant)` statement if asked. */
export function applyContentNormalization(
  tree: AstNode,
  options: { renames: Map<string, string>; emptyDocstrings: boolean },
): AstNode {
  const rename = (name: AstValue): AstValue => (typeof name === 'string' ? (options.renames.get(name) ?? name) : name);
  return mapTree(tree, (node) => {
    for (const field of IDENTIFIER_FIELDS[node._type] ?? []) {
      const value = node[field];
      node[field] = Array.isArray(value) ? value.map(rename) : rename(value);
    }
    if (options.emptyDocstrings && node._type === 'Expr' && isAstNode(node.value) && node.value._type === 'Constant') {
      node.value = makeNode('Constant', { value: str(''), kind: node.value.kind });
    }
    return node;
  }) as AstNode;
}

/**
 * Rewrites a 3.11 tree into what the reference tokenizer dumps under
 * CPython 3.8: `Index`/`ExtSlice` around subscripts, no positional-only or
 * keyword-only parameters and no `*args`, no format specs, `level=0`.
 */
export function toCompatShapes(tree: AstNode): AstNode {
  return mapTree(tree, (node) => {
    switch (node._type) {
      case 'Subscript':
        node.slice = compatSlice(node.slice as AstNode);
        break;
      case 'arguments':
        node.posonlyargs = [];
        node.vararg = null;
        node.kwonlyargs = [];
        node.kw_defaults = [];
        break;
      case 'FormattedValue':
        node.format_spec = null;
        break;
      case 'ImportFrom':
        node.level = 0;
        break;
    }
    return node;
  }) as AstNode;
}

function compatSlice(slice: AstNode): AstNode {
  if (slice._type === 'Slice') return slice;
  if (slice._type === 'Tuple' && (slice.elts as AstNode[]).some((e) => e._type === 'Slice')) {
    const dims = (slice.elts as AstNode[]).map((e) => (e._type === 'Slice' ? e : makeNode('Index', { value: e })));
    return makeNode('ExtSlice', { dims });
  }
  return makeNode('Index', { value: slice });
}

/** Undoes the 3.8 subscript shapes so a compat tree can be unparsed. */
export function fromCompatShapes(tree: AstNode): AstNode {
  return mapTree(tree, (node) => {
    if (node._type === 'Index') return node.value as AstNode;
    if (node._type === 'ExtSlice') return makeNode('Tuple', { elts: node.dims, ctx: makeNode('Load') });
    return node;
  }) as AstNode;
}
