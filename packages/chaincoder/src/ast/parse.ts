/**
 * Python source to a CPython-3.11-shaped syntax tree. tree-sitter-python,
 * loaded as WebAssembly through web-tree-sitter, produces the concrete syntax
 * tree. `Converter` maps it to the node classes of CPython's `ast.parse` and
 * applies CPython's normalizations: expression contexts, flattened `and`/`or`
 * chains, chained comparisons, implicit string concatenation, exact literal
 * values and `elif` as a nested `If`.
 */
import { createRequire } from 'node:module';
import { InputError } from '@sculpt/core';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { makeNode, type AstNode, type AstValue, type PyConstant } from './nodes.js';
import { LiteralError, parseFloatLiteral, parseIntLiteral } from './literals.js';
import { StringLiteralConverter } from './string-literals.js';
import { PatternConverter } from './patterns.js';

/** Source that CPython would reject; `line` and `column` are 1-based. */
export class PythonSyntaxError extends InputError {
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly column: number,
    file?: string,
  ) {
    super(`invalid Python syntax at line ${line}, column ${column}: ${detail}`, file);
  }
}

/** Valid Python that the tokenizer deliberately does not handle (Python 3.12 syntax, `\N{...}` escapes). */
export class UnsupportedSyntaxError extends InputError {
  constructor(
    readonly construct: string,
    readonly line: number,
    file?: string,
  ) {
    super(`unsupported Python construct '${construct}' at line ${line}; programs using it are skipped`, file);
  }
}

let languagePromise: Promise<Language> | undefined;

/** Loads the tree-sitter-python grammar once per process. */
async function loadLanguage(): Promise<Language> {
  languagePromise ??= (async () => {
    await Parser.init();
    const require = createRequire(import.meta.url);
    return Language.load(require.resolve('tree-sitter-python/tree-sitter-python.wasm'));
  })();
  return languagePromise;
}

/** A reusable parser; create it with `createPythonParser()`. */
export interface PythonParser {
  /** Parses a module. `file` only labels error messages. */
  parse(source: string, file?: string): AstNode;
}

export async function createPythonParser(): Promise<PythonParser> {
  const language = await loadLanguage();
  const parser = new Parser();
  parser.setLanguage(language);
  return {
    parse(source: string, file?: string): AstNode {
      // CPython reads every newline convention as '\n' before tokenizing, also inside string literals.
      const text = source.replace(/\r\n?/g, '\n');
      const tree = parser.parse(text);
      if (tree === null) throw new InputError('tree-sitter returned no tree', file);
      try {
        if (tree.rootNode.hasError) throw syntaxErrorAt(tree.rootNode, file);
        return new Converter(text, file).module(tree.rootNode);
      } finally {
        tree.delete();
      }
    },
  };
}

function syntaxErrorAt(root: Node, file: string | undefined): PythonSyntaxError {
  // Depth-first search for the first ERROR or MISSING node, which is where tree-sitter gave up.
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.isError || node.isMissing) {
      const what = node.isMissing ? `missing '${node.type}'` : `unexpected ${JSON.stringify(node.text.slice(0, 40))}`;
      return new PythonSyntaxError(what, node.startPosition.row + 1, node.startPosition.column + 1, file);
    }
    if (!node.hasError && node !== root) continue;
    for (let i = node.childCount - 1; i >= 0; i--) stack.push(node.child(i)!);
  }
  return new PythonSyntaxError('tree-sitter reported an error', 1, 1, file);
}

/** Comments and backslash continuations, which tree-sitter keeps as extra nodes anywhere in the tree. */
/** CPython stores identifiers NFKC-normalized (PEP 3131), so `ｗｉｄｔｈ` is the name `width`. */
const identifier = (node: Node): string => {
  const text = node.text;
  return /^[\x00-\x7f]*$/.test(text) ? text : text.normalize('NFKC');
};

const isTrivia = (node: Node): boolean => node.type === 'comment' || node.type === 'line_continuation';

type Ctx = 'Load' | 'Store' | 'Del';

const BINARY_OPERATORS: Readonly<Record<string, string>> = {
  '+': 'Add', '-': 'Sub', '*': 'Mult', '@': 'MatMult', '/': 'Div', '%': 'Mod', '**': 'Pow',
  '<<': 'LShift', '>>': 'RShift', '|': 'BitOr', '^': 'BitXor', '&': 'BitAnd', '//': 'FloorDiv',
};
const BINARY_PRECEDENCE: Readonly<Record<string, number>> = {
  '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '@': 6, '/': 6, '//': 6, '%': 6, '**': 8,
};
/** Field holding the object a call, attribute or subscript applies to. */
const CHAIN_BASE_FIELD: Readonly<Record<string, string>> = { call: 'function', attribute: 'object', subscript: 'value' };

const UNARY_OPERATORS: Readonly<Record<string, string>> = { '+': 'UAdd', '-': 'USub', '~': 'Invert' };
const COMPARISON_OPERATORS: Readonly<Record<string, string>> = {
  '==': 'Eq', '!=': 'NotEq', '<': 'Lt', '<=': 'LtE', '>': 'Gt', '>=': 'GtE',
  is: 'Is', 'is not': 'IsNot', in: 'In', 'not in': 'NotIn', '<>': 'NotEq',
};

const op = (name: string): AstNode => makeNode(name);
const ctxNode = (ctx: Ctx): AstNode => makeNode(ctx);
const constant = (value: PyConstant, kind: string | null = null): AstNode => makeNode('Constant', { value, kind });

class Converter {
  /** Star expressions whose star was moved outward by `hoistSplat`. */
  private readonly strippedSplats = new Set<number>();
  private readonly stringLiterals = new StringLiteralConverter(this);
  private readonly patterns = new PatternConverter(this);

  constructor(
    readonly source: string,
    private readonly file: string | undefined,
  ) {}

  module(root: Node): AstNode {
    return makeNode('Module', { body: this.statements(root), type_ignores: [] });
  }

  // ---- helpers over the concrete tree ----

  children(node: Node): Node[] {
    const out: Node[] = [];
    for (let i = 0; i < node.namedChildCount; i++) {
      const child = node.namedChild(i)!;
      if (!isTrivia(child)) out.push(child);
    }
    return out;
  }

  field(node: Node, name: string): Node | null {
    return node.childForFieldName(name);
  }

  required(node: Node, name: string): Node {
    const child = node.childForFieldName(name);
    if (child === null) throw this.syntaxError(node, `missing ${name} in ${node.type}`);
    return child;
  }

  identifierText(node: Node): string {
    return identifier(node);
  }

  hasToken(node: Node, token: string): boolean {
    for (let i = 0; i < node.childCount; i++) if (node.child(i)!.type === token) return true;
    return false;
  }

  syntaxError(node: Node, detail: string): PythonSyntaxError {
    return new PythonSyntaxError(detail, node.startPosition.row + 1, node.startPosition.column + 1, this.file);
  }

  unsupported(node: Node, construct: string): UnsupportedSyntaxError {
    return new UnsupportedSyntaxError(construct, node.startPosition.row + 1, this.file);
  }

  // ---- statements ----

  statements(block: Node): AstNode[] {
    return this.children(block).map((child) => this.statement(child));
  }

  private body(node: Node, fieldName = 'body'): AstNode[] {
    return this.statements(this.required(node, fieldName));
  }

  private statement(node: Node): AstNode {
    switch (node.type) {
      case 'expression_statement':
        return this.expressionStatement(node);
      case 'return_statement': {
        const value = this.children(node)[0];
        return makeNode('Return', { value: value === undefined ? null : this.expr(value) });
      }
      case 'delete_statement':
        return this.deleteStatement(node);
      case 'pass_statement':
        return makeNode('Pass');
      case 'break_statement':
        return makeNode('Break');
      case 'continue_statement':
        return makeNode('Continue');
      case 'raise_statement':
        return this.raiseStatement(node);
      case 'global_statement':
      case 'nonlocal_statement':
        return makeNode(node.type === 'global_statement' ? 'Global' : 'Nonlocal', {
          names: this.children(node).map((child) => identifier(child)),
        });
      case 'assert_statement': {
        const [test, msg] = this.children(node);
        return makeNode('Assert', { test: this.expr(test), msg: msg === undefined ? null : this.expr(msg) });
      }
      case 'import_statement':
        return makeNode('Import', { names: node.childrenForFieldName('name').map((child) => this.alias(child)) });
      case 'import_from_statement':
        return this.importFrom(node);
      case 'future_import_statement':
        return makeNode('ImportFrom', {
          module: '__future__',
          names: node.childrenForFieldName('name').map((child) => this.alias(child)),
          level: 0,
        });
      case 'if_statement':
        return this.ifStatement(node);
      case 'for_statement':
        return this.forStatement(node);
      case 'while_statement':
        return makeNode('While', {
          test: this.expr(this.required(node, 'condition')),
          body: this.body(node),
          orelse: this.elseBody(this.field(node, 'alternative')),
        });
      case 'try_statement':
        return this.tryStatement(node);
      case 'with_statement':
        return this.withStatement(node);
      case 'function_definition':
        return this.functionDef(node, []);
      case 'class_definition':
        return this.classDef(node, []);
      case 'decorated_definition':
        return this.decorated(node);
      case 'print_statement':
        return this.printChevron(node);
      case 'exec_statement':
        throw this.syntaxError(node, `Python 2 ${node.type.replace('_', ' ')} is not valid Python 3`);
      case 'match_statement':
        return this.patterns.matchStatement(node);
      case 'type_alias_statement':
        return this.typeAliasStatement(node);
      default:
        throw this.syntaxError(node, `unexpected ${node.type} where a statement was expected`);
    }
  }

  /**
   * tree-sitter-python 0.25 also reads the Python 3.11 assignment
   * `type(obj).attr = value` as a type alias whose name is `(obj).attr`. A real
   * alias names a plain identifier, optionally with type parameters.
   */
  private typeAliasStatement(node: Node): AstNode {
    const left = this.required(node, 'left');
    const name = left.type === 'type' ? this.children(left)[0] : left;
    if (name === undefined || name.type === 'identifier' || name.type === 'generic_type') throw this.unsupported(node, 'type alias statement');
    return makeNode('Assign', {
      targets: [this.typeCallChain(name, 'Store')],
      value: this.expr(this.required(node, 'right')),
      type_comment: null,
    });
  }

  /** Rebuilds `(obj).attr[i]` with its parenthesized base read as the call `type(obj)`. */
  private typeCallChain(node: Node, ctx: Ctx): AstNode {
    switch (node.type) {
      case 'parenthesized_expression':
      case 'tuple': {
        const args = node.type === 'tuple' ? this.children(node).map((child) => this.expr(child)) : [this.expr(this.children(node)[0])];
        return makeNode('Call', { func: makeNode('Name', { id: 'type', ctx: ctxNode('Load') }), args, keywords: [] });
      }
      case 'attribute':
        return makeNode('Attribute', {
          value: this.typeCallChain(this.required(node, 'object'), 'Load'),
          attr: identifier(this.required(node, 'attribute')),
          ctx: ctxNode(ctx),
        });
      case 'subscript':
        return makeNode('Subscript', {
          value: this.typeCallChain(this.required(node, 'value'), 'Load'),
          slice: this.subscriptSlice(node),
          ctx: ctxNode(ctx),
        });
      default:
        throw this.unsupported(node, 'type alias statement');
    }
  }

  private expressionStatement(node: Node): AstNode {
    const parts = this.children(node);
    if (parts.length === 1 && !this.hasToken(node, ',')) {
      const only = parts[0];
      if (only.type === 'assignment') return this.assignment(only);
      if (only.type === 'augmented_assignment') return this.augmentedAssignment(only);
      return makeNode('Expr', { value: this.expr(only) });
    }
    // `a, b` as a statement is a tuple expression.
    return makeNode('Expr', { value: makeNode('Tuple', { elts: parts.map((p) => this.expr(p)), ctx: ctxNode('Load') }) });
  }

  /**
   * `print >> f, x` is valid Python 3 (a tuple holding a right shift), but
   * tree-sitter reads it as a Python 2 print statement. Any other print
   * statement is a Python 2 construct and invalid.
   */
  private printChevron(node: Node): AstNode {
    const parts = this.children(node);
    const chevron = parts.find((part) => part.type === 'chevron');
    if (chevron === undefined) throw this.syntaxError(node, 'Python 2 print statement is not valid Python 3');
    const shifted = makeNode('BinOp', {
      left: makeNode('Name', { id: 'print', ctx: ctxNode('Load') }),
      op: op('RShift'),
      right: this.expr(this.children(chevron)[0]),
    });
    const rest = parts.filter((part) => part !== chevron).map((part) => this.expr(part));
    if (rest.length === 0 && !this.hasToken(node, ',')) return makeNode('Expr', { value: shifted });
    return makeNode('Expr', { value: makeNode('Tuple', { elts: [shifted, ...rest], ctx: ctxNode('Load') }) });
  }

  private assignment(node: Node): AstNode {
    const annotation = this.field(node, 'type');
    const left = this.required(node, 'left');
    if (annotation !== null) {
      const right = this.field(node, 'right');
      return makeNode('AnnAssign', {
        target: this.target(left, 'Store'),
        annotation: this.expr(annotation),
        value: right === null ? null : this.expr(right),
        // CPython marks a bare unparenthesized name as "simple".
        simple: left.type === 'identifier' ? 1 : 0,
      });
    }
    const targets: AstNode[] = [this.target(left, 'Store')];
    let right = this.required(node, 'right');
    while (right.type === 'assignment') {
      if (this.field(right, 'type') !== null) throw this.syntaxError(right, 'annotation inside a chained assignment');
      targets.push(this.target(this.required(right, 'left'), 'Store'));
      right = this.required(right, 'right');
    }
    if (right.type === 'augmented_assignment') throw this.syntaxError(right, 'augmented assignment inside an assignment');
    return makeNode('Assign', { targets, value: this.expr(right), type_comment: null });
  }

  private augmentedAssignment(node: Node): AstNode {
    const operator = this.required(node, 'operator').type.slice(0, -1);
    const name = BINARY_OPERATORS[operator];
    if (name === undefined) throw this.syntaxError(node, `unknown augmented operator ${operator}=`);
    const left = this.required(node, 'left');
    if (!['identifier', 'attribute', 'subscript'].includes(left.type)) {
      throw this.syntaxError(left, `'${left.type}' is an illegal target for augmented assignment`);
    }
    return makeNode('AugAssign', {
      target: this.target(left, 'Store'),
      op: op(name),
      value: this.expr(this.required(node, 'right')),
    });
  }

  private deleteStatement(node: Node): AstNode {
    const [inner] = this.children(node);
    const items = inner.type === 'expression_list' ? this.children(inner) : [inner];
    return makeNode('Delete', { targets: items.map((item) => this.target(item, 'Del')) });
  }

  private raiseStatement(node: Node): AstNode {
    const parts = this.children(node);
    const hasCause = this.hasToken(node, 'from');
    const exc = parts.length > 0 ? parts[0] : undefined;
    const cause = hasCause ? parts[1] : undefined;
    return makeNode('Raise', {
      exc: exc === undefined ? null : this.expr(exc),
      cause: cause === undefined ? null : this.expr(cause),
    });
  }

  private alias(node: Node): AstNode {
    if (node.type === 'aliased_import') {
      return makeNode('alias', { name: this.dottedName(this.required(node, 'name')), asname: identifier(this.required(node, 'alias')) });
    }
    if (node.type === 'dotted_name' || node.type === 'identifier') {
      return makeNode('alias', { name: this.dottedName(node), asname: null });
    }
    throw this.syntaxError(node, `unexpected ${node.type} in import`);
  }

  private dottedName(node: Node): string {
    const parts = this.children(node);
    return parts.length === 0 ? identifier(node) : parts.map((part) => identifier(part)).join('.');
  }

  private importFrom(node: Node): AstNode {
    const moduleNode = this.required(node, 'module_name');
    let module: string | null;
    let level = 0;
    if (moduleNode.type === 'relative_import') {
      const prefix = this.children(moduleNode).find((child) => child.type === 'import_prefix');
      level = prefix === undefined ? 0 : prefix.text.replace(/\s+/g, '').length;
      const dotted = this.children(moduleNode).find((child) => child.type === 'dotted_name');
      module = dotted === undefined ? null : this.dottedName(dotted);
    } else {
      module = this.dottedName(moduleNode);
    }
    const wildcard = this.children(node).some((child) => child.type === 'wildcard_import');
    const names = wildcard
      ? [makeNode('alias', { name: '*', asname: null })]
      : node.childrenForFieldName('name').map((child) => this.alias(child));
    return makeNode('ImportFrom', { module, names, level });
  }

  private ifStatement(node: Node): AstNode {
    const alternatives = node.childrenForFieldName('alternative');
    let orelse: AstNode[] = [];
    // Build the elif chain from the end: each elif becomes an If nested in the previous orelse.
    for (let i = alternatives.length - 1; i >= 0; i--) {
      const clause = alternatives[i];
      if (clause.type === 'else_clause') {
        orelse = this.body(clause);
      } else {
        orelse = [
          makeNode('If', {
            test: this.expr(this.required(clause, 'condition')),
            body: this.body(clause, 'consequence'),
            orelse,
          }),
        ];
      }
    }
    return makeNode('If', {
      test: this.expr(this.required(node, 'condition')),
      body: this.body(node, 'consequence'),
      orelse,
    });
  }

  private elseBody(clause: Node | null): AstNode[] {
    return clause === null ? [] : this.body(clause);
  }

  private forStatement(node: Node): AstNode {
    return makeNode(this.hasToken(node, 'async') ? 'AsyncFor' : 'For', {
      target: this.target(this.required(node, 'left'), 'Store'),
      iter: this.expr(this.required(node, 'right')),
      body: this.body(node),
      orelse: this.elseBody(this.field(node, 'alternative')),
      type_comment: null,
    });
  }

  private tryStatement(node: Node): AstNode {
    const handlers: AstNode[] = [];
    let orelse: AstNode[] = [];
    let finalbody: AstNode[] = [];
    // `except*` handlers make the statement a TryStar; CPython rejects mixing them with plain `except`.
    let starred: boolean | null = null;
    for (const child of this.children(node)) {
      if (child.type === 'except_clause' || child.type === 'except_group_clause') {
        const isStar = child.type === 'except_group_clause' || this.hasToken(child, '*');
        if (starred !== null && starred !== isStar) throw this.syntaxError(child, "cannot have both 'except' and 'except*' on the same 'try'");
        starred = isStar;
        handlers.push(this.exceptHandler(child));
      } else if (child.type === 'else_clause') orelse = this.body(child);
      else if (child.type === 'finally_clause') finalbody = this.statements(this.children(child)[0]);
    }
    return makeNode(starred === true ? 'TryStar' : 'Try', { body: this.body(node), handlers, orelse, finalbody });
  }

  private exceptHandler(node: Node): AstNode {
    const parts = this.children(node);
    const block = parts[parts.length - 1];
    let type: AstValue = null;
    let name: string | null = null;
    const value = parts.length > 1 ? parts[0] : undefined;
    if (value !== undefined) {
      if (value.type === 'as_pattern') {
        const [expression] = this.children(value);
        type = this.expr(expression);
        const alias = this.required(value, 'alias');
        const target = this.children(alias)[0] ?? alias;
        if (target.type !== 'identifier') throw this.syntaxError(target, 'except ... as needs a plain name');
        name = identifier(target);
      } else {
        type = this.expr(value);
      }
      // `except A, e` is Python 2 syntax; tree-sitter reads it as a second expression.
      if (parts.length > 2) throw this.syntaxError(parts[1], 'Python 2 "except X, name" is not valid Python 3');
    }
    return makeNode('ExceptHandler', { type, name, body: this.statements(block) });
  }

  private withStatement(node: Node): AstNode {
    const clause = this.children(node).find((child) => child.type === 'with_clause');
    if (clause === undefined) throw this.syntaxError(node, 'with statement without items');
    const items = this.children(clause).map((item) => {
      let value = this.required(item, 'value');
      // tree-sitter reads the one-item form `with (a as b):` as a parenthesized as-pattern.
      const grouped = value.type === 'parenthesized_expression' ? this.children(value) : [];
      if (grouped.length === 1 && grouped[0].type === 'as_pattern') value = grouped[0];
      if (value.type === 'as_pattern') {
        const [expression] = this.children(value);
        const alias = this.required(value, 'alias');
        const target = this.children(alias)[0] ?? alias;
        return makeNode('withitem', { context_expr: this.expr(expression), optional_vars: this.target(target, 'Store') });
      }
      return makeNode('withitem', { context_expr: this.expr(value), optional_vars: null });
    });
    return makeNode(this.hasToken(node, 'async') ? 'AsyncWith' : 'With', { items, body: this.body(node), type_comment: null });
  }

  private decorated(node: Node): AstNode {
    const decorators = this.children(node)
      .filter((child) => child.type === 'decorator')
      .map((decorator) => this.expr(this.children(decorator)[0]));
    const definition = this.required(node, 'definition');
    if (definition.type === 'class_definition') return this.classDef(definition, decorators);
    return this.functionDef(definition, decorators);
  }

  private functionDef(node: Node, decorators: AstNode[]): AstNode {
    if (this.field(node, 'type_parameters') !== null) throw this.unsupported(node, 'type parameters');
    const returns = this.field(node, 'return_type');
    return makeNode(this.hasToken(node, 'async') ? 'AsyncFunctionDef' : 'FunctionDef', {
      name: identifier(this.required(node, 'name')),
      args: this.parameters(this.field(node, 'parameters')),
      body: this.body(node),
      decorator_list: decorators,
      returns: returns === null ? null : this.expr(returns),
      type_comment: null,
    });
  }

  private classDef(node: Node, decorators: AstNode[]): AstNode {
    if (this.field(node, 'type_parameters') !== null) throw this.unsupported(node, 'type parameters');
    const superclasses = this.field(node, 'superclasses');
    const { args, keywords } = superclasses === null ? { args: [], keywords: [] } : this.callArguments(superclasses);
    return makeNode('ClassDef', {
      name: identifier(this.required(node, 'name')),
      bases: args,
      keywords,
      body: this.body(node),
      decorator_list: decorators,
    });
  }

  // ---- parameters ----

  private parameters(node: Node | null): AstNode {
    const posonlyargs: AstNode[] = [];
    const args: AstNode[] = [];
    const defaults: AstNode[] = [];
    const kwonlyargs: AstNode[] = [];
    const kwDefaults: AstValue[] = [];
    let vararg: AstNode | null = null;
    let kwarg: AstNode | null = null;
    let afterStar = false;
    const params = node === null ? [] : this.children(node);
    for (const param of params) {
      if (param.type === 'positional_separator') {
        posonlyargs.push(...args.splice(0));
        continue;
      }
      if (param.type === 'keyword_separator') {
        afterStar = true;
        continue;
      }
      const { arg, value, star } = this.parameter(param);
      if (star === '*') {
        vararg = arg;
        afterStar = true;
      } else if (star === '**') {
        kwarg = arg;
      } else if (afterStar) {
        kwonlyargs.push(arg);
        kwDefaults.push(value === null ? null : this.expr(value));
      } else {
        args.push(arg);
        if (value !== null) defaults.push(this.expr(value));
        else if (defaults.length > 0) throw this.syntaxError(param, 'non-default argument follows default argument');
      }
    }
    return makeNode('arguments', {
      posonlyargs,
      args,
      vararg,
      kwonlyargs,
      kw_defaults: kwDefaults,
      kwarg,
      defaults,
    });
  }

  private parameter(node: Node): { arg: AstNode; value: Node | null; star: '' | '*' | '**' } {
    const annotationNode = this.field(node, 'type');
    const annotation = annotationNode === null ? null : this.expr(annotationNode);
    const makeArg = (name: Node): AstNode => makeNode('arg', { arg: identifier(name), annotation, type_comment: null });
    switch (node.type) {
      case 'identifier':
        return { arg: makeArg(node), value: null, star: '' };
      case 'default_parameter':
      case 'typed_default_parameter':
        return { arg: makeArg(this.required(node, 'name')), value: this.required(node, 'value'), star: '' };
      case 'typed_parameter': {
        const inner = this.children(node)[0];
        if (inner.type === 'identifier') return { arg: makeArg(inner), value: null, star: '' };
        const star = inner.type === 'list_splat_pattern' ? '*' : '**';
        return { arg: makeArg(this.children(inner)[0]), value: null, star };
      }
      case 'list_splat_pattern':
        return { arg: makeArg(this.children(node)[0]), value: null, star: '*' };
      case 'dictionary_splat_pattern':
        return { arg: makeArg(this.children(node)[0]), value: null, star: '**' };
      default:
        throw this.syntaxError(node, `unexpected ${node.type} in a parameter list`);
    }
  }

  // ---- targets ----

  private target(node: Node, ctx: Ctx): AstNode {
    switch (node.type) {
      case 'identifier':
        return makeNode('Name', { id: identifier(node), ctx: ctxNode(ctx) });
      case 'attribute':
        return makeNode('Attribute', {
          value: this.expr(this.required(node, 'object')),
          attr: identifier(this.required(node, 'attribute')),
          ctx: ctxNode(ctx),
        });
      case 'subscript':
        return makeNode('Subscript', {
          value: this.expr(this.required(node, 'value')),
          slice: this.subscriptSlice(node),
          ctx: ctxNode(ctx),
        });
      case 'parenthesized_expression':
        return this.target(this.children(node)[0], ctx);
      case 'tuple':
      case 'tuple_pattern':
        // tree-sitter reads the parenthesized target `(x)` as a one-element tuple pattern.
        if (this.children(node).length === 1 && !this.hasToken(node, ',')) return this.target(this.children(node)[0], ctx);
        return makeNode('Tuple', { elts: this.children(node).map((child) => this.target(child, ctx)), ctx: ctxNode(ctx) });
      case 'pattern_list':
      case 'expression_list':
        return makeNode('Tuple', { elts: this.children(node).map((child) => this.target(child, ctx)), ctx: ctxNode(ctx) });
      case 'list':
      case 'list_pattern':
        return makeNode('List', { elts: this.children(node).map((child) => this.target(child, ctx)), ctx: ctxNode(ctx) });
      case 'list_splat_pattern':
      case 'list_splat':
        return makeNode('Starred', { value: this.target(this.children(node)[0], ctx), ctx: ctxNode(ctx) });
      default:
        throw this.syntaxError(node, `cannot assign to ${node.type.replace(/_/g, ' ')}`);
    }
  }

  // ---- expressions ----

  expr(node: Node): AstNode {
    switch (node.type) {
      case 'identifier':
        return makeNode('Name', { id: identifier(node), ctx: ctxNode('Load') });
      case 'integer':
      case 'float':
        return this.number(node);
      case 'true':
        return constant({ py: 'bool', value: true });
      case 'false':
        return constant({ py: 'bool', value: false });
      case 'none':
        return constant({ py: 'None' });
      case 'ellipsis':
        return constant({ py: 'Ellipsis' });
      case 'string':
        return this.stringLiterals.convert([node]);
      case 'concatenated_string':
        return this.stringLiterals.convert(this.children(node));
      case 'parenthesized_expression': {
        const inner = this.children(node);
        if (inner.length !== 1) throw this.syntaxError(node, 'malformed parenthesized expression');
        return this.expr(inner[0]);
      }
      case 'binary_operator':
        return this.binaryChain(node);
      case 'unary_operator': {
        const operator = this.required(node, 'operator').type;
        return makeNode('UnaryOp', { op: op(UNARY_OPERATORS[operator]), operand: this.expr(this.required(node, 'argument')) });
      }
      case 'not_operator':
        return makeNode('UnaryOp', { op: op('Not'), operand: this.expr(this.required(node, 'argument')) });
      case 'boolean_operator':
        return this.booleanOperator(node);
      case 'comparison_operator':
        return this.comparison(node);
      case 'conditional_expression': {
        const [body, test, orelse] = this.children(node);
        return makeNode('IfExp', { test: this.expr(test), body: this.expr(body), orelse: this.expr(orelse) });
      }
      case 'lambda':
        return makeNode('Lambda', {
          args: this.parameters(this.field(node, 'parameters')),
          body: this.expr(this.required(node, 'body')),
        });
      case 'named_expression':
        return makeNode('NamedExpr', {
          target: makeNode('Name', { id: identifier(this.required(node, 'name')), ctx: ctxNode('Store') }),
          value: this.expr(this.required(node, 'value')),
        });
      case 'call':
      case 'attribute':
      case 'subscript': {
        const hoisted = this.hoistSplat(node);
        if (hoisted !== null) return hoisted;
        return node.type === 'call' ? this.call(node) : this.target(node, 'Load');
      }
      case 'list':
        return makeNode('List', { elts: this.children(node).map((child) => this.expr(child)), ctx: ctxNode('Load') });
      case 'tuple':
      case 'expression_list':
        return makeNode('Tuple', { elts: this.children(node).map((child) => this.expr(child)), ctx: ctxNode('Load') });
      case 'set':
        return makeNode('Set', { elts: this.children(node).map((child) => this.expr(child)) });
      case 'dictionary':
        return this.dictionary(node);
      case 'list_comprehension':
      case 'set_comprehension':
      case 'generator_expression':
      case 'dictionary_comprehension':
        return this.comprehension(node);
      case 'list_splat': {
        const inner = this.children(node)[0];
        if (this.strippedSplats.has(node.id)) return this.expr(inner);
        return makeNode('Starred', { value: this.expr(inner), ctx: ctxNode('Load') });
      }
      case 'yield':
        return this.yieldExpression(node);
      case 'type':
        // Annotations are wrapped in a `type` node; the annotation itself is its only child.
        return this.expr(this.children(node)[0]);
      case 'generic_type': {
        // `list[int]` inside an annotation; tree-sitter gives it its own node instead of a subscript.
        const [base, parameters] = this.children(node);
        const items = this.children(parameters).map((item) => this.expr(item));
        const slice =
          items.length === 1 && !this.hasToken(parameters, ',') && items[0]._type !== 'Starred' ? items[0] : makeNode('Tuple', { elts: items, ctx: ctxNode('Load') });
        return makeNode('Subscript', { value: this.expr(base), slice, ctx: ctxNode('Load') });
      }
      case 'union_type': {
        const [left, right] = this.children(node);
        return makeNode('BinOp', { left: this.expr(left), op: op('BitOr'), right: this.expr(right) });
      }
      case 'splat_type':
        return makeNode('Starred', { value: this.expr(this.children(node)[0]), ctx: ctxNode('Load') });
      case 'member_type': {
        const [object, attribute] = this.children(node);
        return makeNode('Attribute', { value: this.expr(object), attr: identifier(attribute), ctx: ctxNode('Load') });
      }
      case 'await':
        return makeNode('Await', { value: this.expr(this.children(node)[0]) });
      default:
        throw this.syntaxError(node, `unexpected ${node.type} where an expression was expected`);
    }
  }

  /**
   * tree-sitter-python 0.25 parses `[*a.b()]` as a call on the attribute of
   * `*a`; Python binds the star loosest, so the whole chain is starred.
   * Returns null when the chain does not start with a star.
   */
  private hoistSplat(node: Node): AstNode | null {
    let base: Node | null = node;
    while (base !== null && (base.type === 'call' || base.type === 'attribute' || base.type === 'subscript')) {
      base = this.field(base, CHAIN_BASE_FIELD[base.type]);
    }
    if (base === null || base.type !== 'list_splat' || this.strippedSplats.has(base.id)) return null;
    this.strippedSplats.add(base.id);
    try {
      return makeNode('Starred', { value: this.expr(node), ctx: ctxNode('Load') });
    } finally {
      this.strippedSplats.delete(base.id);
    }
  }

  private number(node: Node): AstNode {
    const text = node.text;
    try {
      if (/[jJ]$/.test(text)) {
        const body = text.slice(0, -1);
        const value = /^0[xXoObB]/.test(body) ? Number(parseIntLiteral(body)) : parseFloatLiteral(body);
        return constant({ py: 'complex', value });
      }
      if (node.type === 'integer') {
        if (/[lL]$/.test(text)) throw new LiteralError(`Python 2 long literal ${text} is not valid Python 3`);
        return constant({ py: 'int', value: parseIntLiteral(text) });
      }
      return constant({ py: 'float', value: parseFloatLiteral(text) });
    } catch (error) {
      if (error instanceof LiteralError) throw this.syntaxError(node, error.message);
      throw error;
    }
  }

  /**
   * Rebuilds a chain of binary operators with Python's precedence.
   * tree-sitter-python 0.25 ranks `^` above `&` (it parses `a ^ b & c` as
   * `(a ^ b) & c`), so the chain is flattened in source order and re-associated
   * here instead of trusting the tree's nesting.
   */
  private binaryChain(node: Node): AstNode {
    const operands: Node[] = [];
    const operators: Node[] = [];
    const flatten = (part: Node): void => {
      if (part.type !== 'binary_operator') {
        operands.push(part);
        return;
      }
      flatten(this.required(part, 'left'));
      operators.push(this.required(part, 'operator'));
      flatten(this.required(part, 'right'));
    };
    flatten(node);
    let position = 0;
    const parse = (minPrecedence: number): AstNode => {
      let left = this.expr(operands[position]);
      while (position < operators.length) {
        const operator = operators[position].type;
        const precedence = BINARY_PRECEDENCE[operator];
        if (precedence === undefined) throw this.syntaxError(operators[position], `unknown binary operator ${operator}`);
        if (precedence < minPrecedence) break;
        position += 1;
        // `**` is right-associative; every other binary operator is left-associative.
        const right = parse(operator === '**' ? precedence : precedence + 1);
        left = makeNode('BinOp', { left, op: op(BINARY_OPERATORS[operator]), right });
      }
      return left;
    };
    return parse(0);
  }

  private booleanOperator(node: Node): AstNode {
    const operator = this.required(node, 'operator').type;
    const name = operator === 'and' ? 'And' : 'Or';
    const values: AstNode[] = [];
    // tree-sitter nests `a and b and c` to the left; CPython flattens the chain unless a part is parenthesized.
    const collect = (part: Node): void => {
      if (part.type === 'boolean_operator' && this.required(part, 'operator').type === operator) {
        collect(this.required(part, 'left'));
        collect(this.required(part, 'right'));
      } else {
        values.push(this.expr(part));
      }
    };
    collect(this.required(node, 'left'));
    values.push(this.expr(this.required(node, 'right')));
    return makeNode('BoolOp', { op: op(name), values });
  }

  private comparison(node: Node): AstNode {
    const operands: AstNode[] = [];
    const ops: AstNode[] = [];
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i)!;
      if (node.fieldNameForChild(i) === 'operators') {
        const key = child.text.replace(/\s+/g, ' ');
        const name = COMPARISON_OPERATORS[key];
        if (name === undefined || key === '<>') throw this.syntaxError(child, `invalid comparison operator ${key}`);
        ops.push(op(name));
      } else if (child.isNamed && !isTrivia(child)) {
        operands.push(this.expr(child));
      }
    }
    return makeNode('Compare', { left: operands[0], ops, comparators: operands.slice(1) });
  }

  private call(node: Node): AstNode {
    const func = this.expr(this.required(node, 'function'));
    const argumentsNode = this.required(node, 'arguments');
    if (argumentsNode.type === 'generator_expression') {
      return makeNode('Call', { func, args: [this.expr(argumentsNode)], keywords: [] });
    }
    const { args, keywords } = this.callArguments(argumentsNode);
    return makeNode('Call', { func, args, keywords });
  }

  private callArguments(node: Node): { args: AstNode[]; keywords: AstNode[] } {
    const args: AstNode[] = [];
    const keywords: AstNode[] = [];
    for (const child of this.children(node)) {
      if (child.type === 'keyword_argument') {
        keywords.push(
          makeNode('keyword', { arg: identifier(this.required(child, 'name')), value: this.expr(this.required(child, 'value')) }),
        );
      } else if (child.type === 'dictionary_splat') {
        keywords.push(makeNode('keyword', { arg: null, value: this.expr(this.children(child)[0]) }));
      } else {
        args.push(this.expr(child));
      }
    }
    return { args, keywords };
  }

  private subscriptSlice(node: Node): AstNode {
    const parts = node.childrenForFieldName('subscript').filter((child) => !isTrivia(child));
    const items = parts.map((part) => (part.type === 'slice' ? this.slice(part) : this.expr(part)));
    // `a[i]` is the item itself; `a[i, j]` and `a[i,]` are a tuple.
    const trailingComma = this.hasToken(node, ',');
    if (items.length === 1 && !trailingComma && items[0]._type !== 'Starred') return items[0];
    return makeNode('Tuple', { elts: items, ctx: ctxNode('Load') });
  }

  private slice(node: Node): AstNode {
    const bounds: (AstNode | null)[] = [null, null, null];
    let position = 0;
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i)!;
      if (child.type === ':') position += 1;
      else if (child.isNamed && !isTrivia(child)) bounds[position] = this.expr(child);
    }
    return makeNode('Slice', { lower: bounds[0], upper: bounds[1], step: bounds[2] });
  }

  private dictionary(node: Node): AstNode {
    const keys: AstValue[] = [];
    const values: AstNode[] = [];
    for (const child of this.children(node)) {
      if (child.type === 'pair') {
        keys.push(this.expr(this.required(child, 'key')));
        values.push(this.expr(this.required(child, 'value')));
      } else if (child.type === 'dictionary_splat') {
        keys.push(null);
        values.push(this.expr(this.children(child)[0]));
      } else {
        throw this.syntaxError(child, `unexpected ${child.type} in a dict display`);
      }
    }
    return makeNode('Dict', { keys, values });
  }

  private comprehension(node: Node): AstNode {
    const generators: AstNode[] = [];
    for (const clause of this.children(node).slice(1)) {
      if (clause.type === 'for_in_clause') {
        const lefts = clause.childrenForFieldName('left');
        const target =
          lefts.length === 1
            ? this.target(lefts[0], 'Store')
            : makeNode('Tuple', { elts: lefts.map((left) => this.target(left, 'Store')), ctx: ctxNode('Store') });
        const rights = clause.childrenForFieldName('right');
        if (rights.length !== 1) throw this.syntaxError(clause, 'comprehension iterable must be a single expression');
        const isAsync = this.hasToken(clause, 'async') ? 1 : 0;
        generators.push(makeNode('comprehension', { target, iter: this.expr(rights[0]), ifs: [], is_async: isAsync }));
      } else if (clause.type === 'if_clause') {
        const last = generators[generators.length - 1];
        (last.ifs as AstNode[]).push(this.expr(this.children(clause)[0]));
      } else {
        throw this.syntaxError(clause, `unexpected ${clause.type} in a comprehension`);
      }
    }
    const body = this.required(node, 'body');
    switch (node.type) {
      case 'list_comprehension':
        return makeNode('ListComp', { elt: this.expr(body), generators });
      case 'set_comprehension':
        return makeNode('SetComp', { elt: this.expr(body), generators });
      case 'generator_expression':
        return makeNode('GeneratorExp', { elt: this.expr(body), generators });
      default:
        return makeNode('DictComp', {
          key: this.expr(this.required(body, 'key')),
          value: this.expr(this.required(body, 'value')),
          generators,
        });
    }
  }

  private yieldExpression(node: Node): AstNode {
    const [value] = this.children(node);
    if (this.hasToken(node, 'from')) return makeNode('YieldFrom', { value: this.expr(value) });
    return makeNode('Yield', { value: value === undefined ? null : this.expr(value) });
  }

}
