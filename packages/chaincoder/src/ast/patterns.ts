/**
 * `match` statements of the concrete tree to CPython 3.11's `Match`,
 * `match_case` and pattern nodes. tree-sitter-python 0.25 spells patterns
 * flatter than CPython's grammar does, so they are rebuilt from token runs.
 * A negative number is a `-` token beside the number, and each alternative of
 * `|` is a run of siblings. `(p)` is a one-item tuple pattern, and a capture
 * name is a one-part dotted name.
 */
import type { Node } from 'web-tree-sitter';
import { makeNode, type AstNode, type PyConstant } from './nodes.js';

/** The parts of the tree converter that pattern conversion calls back into. */
export interface PatternConversionContext {
  expr(node: Node): AstNode;
  children(node: Node): Node[];
  required(node: Node, name: string): Node;
  hasToken(node: Node, token: string): boolean;
  statements(block: Node): AstNode[];
  identifierText(node: Node): string;
  syntaxError(node: Node, detail: string): Error;
}

const isTrivia = (node: Node): boolean => node.type === 'comment' || node.type === 'line_continuation';

const SINGLETONS: Readonly<Record<string, PyConstant>> = {
  none: { py: 'None' },
  true: { py: 'bool', value: true },
  false: { py: 'bool', value: false },
};

/** Brackets and separators that carry no meaning once the pattern's node type is known. */
const PUNCTUATION = new Set(['(', ')', '[', ']', '{', '}', ',', ':', '=', 'as', '*', '**', 'case', 'if']);

export class PatternConverter {
  constructor(private readonly context: PatternConversionContext) {}

  matchStatement(node: Node): AstNode {
    const subjects = node.childrenForFieldName('subject').filter((child) => !isTrivia(child));
    // `match a, b:` and `match a,:` have a tuple subject.
    const subject =
      subjects.length === 1 && !this.context.hasToken(node, ',')
        ? this.context.expr(subjects[0])
        : makeNode('Tuple', { elts: subjects.map((child) => this.context.expr(child)), ctx: makeNode('Load') });
    const block = this.context.required(node, 'body');
    const cases = block.childrenForFieldName('alternative').map((clause) => this.matchCase(clause));
    return makeNode('Match', { subject, cases });
  }

  private matchCase(clause: Node): AstNode {
    const top = this.context.children(clause).filter((child) => child.type === 'case_pattern');
    // `case a, b:` is an open sequence pattern; `case a,:` too.
    const pattern =
      top.length === 1 && !this.context.hasToken(clause, ',')
        ? this.pattern(top[0])
        : makeNode('MatchSequence', { patterns: top.map((item) => this.pattern(item)) });
    const guardClause = clause.childForFieldName('guard');
    const guard = guardClause === null ? null : this.context.expr(this.context.children(guardClause)[0]);
    const body = this.context.statements(this.context.required(clause, 'consequence'));
    return makeNode('match_case', { pattern, guard, body });
  }

  /** Meaningful children of a pattern node, anonymous tokens such as `_`, `-` and `|` included. */
  private parts(node: Node): Node[] {
    const out: Node[] = [];
    for (const child of node.children) {
      if (child === null || isTrivia(child) || PUNCTUATION.has(child.type)) continue;
      out.push(child);
    }
    return out;
  }

  private pattern(node: Node): AstNode {
    switch (node.type) {
      case 'case_pattern':
        return this.run(node, this.parts(node));
      case '_':
        return makeNode('MatchAs', { pattern: null, name: null });
      case 'dotted_name': {
        const names = this.context.children(node);
        // A bare name captures the subject; a dotted name is a value to compare with.
        if (names.length === 1) return makeNode('MatchAs', { pattern: null, name: this.context.identifierText(names[0]) });
        return makeNode('MatchValue', { value: this.valueExpression(node, [node]) });
      }
      case 'none':
      case 'true':
      case 'false':
        return makeNode('MatchSingleton', { value: SINGLETONS[node.type] });
      case 'integer':
      case 'float':
      case 'string':
      case 'concatenated_string':
      case 'complex_pattern':
        return makeNode('MatchValue', { value: this.valueExpression(node, [node]) });
      case 'union_pattern':
        return this.union(node);
      case 'as_pattern': {
        const [inner, name] = this.context.children(node);
        return makeNode('MatchAs', { pattern: this.pattern(inner), name: this.context.identifierText(name) });
      }
      case 'list_pattern':
        return makeNode('MatchSequence', { patterns: this.context.children(node).map((item) => this.pattern(item)) });
      case 'tuple_pattern': {
        const items = this.context.children(node);
        // `(p)` only groups p; `(p,)` and `()` are sequence patterns.
        if (items.length === 1 && !this.context.hasToken(node, ',')) return this.pattern(items[0]);
        return makeNode('MatchSequence', { patterns: items.map((item) => this.pattern(item)) });
      }
      case 'splat_pattern':
        return makeNode('MatchStar', { name: this.starName(node) });
      case 'dict_pattern':
        return this.mapping(node);
      case 'class_pattern':
        return this.classPattern(node);
      default:
        throw this.context.syntaxError(node, `unexpected ${node.type} in a case pattern`);
    }
  }

  /** A pattern spelled by several sibling tokens, such as `-` `1`; a single token is converted on its own. */
  private run(owner: Node, parts: Node[]): AstNode {
    if (parts.length === 1) return this.pattern(parts[0]);
    if (parts.length === 2 && parts[0].type === '-') return makeNode('MatchValue', { value: this.valueExpression(owner, parts) });
    throw this.context.syntaxError(owner, `malformed case pattern ${JSON.stringify(owner.text.slice(0, 40))}`);
  }

  private union(node: Node): AstNode {
    const alternatives: Node[][] = [[]];
    for (const part of this.parts(node)) {
      if (part.type === '|') alternatives.push([]);
      else alternatives[alternatives.length - 1].push(part);
    }
    return makeNode('MatchOr', { patterns: alternatives.map((parts) => this.run(node, parts)) });
  }

  /** The name bound by `*name` or `**name`; `*_` binds nothing. */
  private starName(node: Node): string | null {
    const name = this.context.children(node)[0];
    return name === undefined ? null : this.context.identifierText(name);
  }

  private mapping(node: Node): AstNode {
    const keys: AstNode[] = [];
    const patterns: AstNode[] = [];
    let rest: string | null = null;
    let keyParts: Node[] = [];
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i)!;
      const field = node.fieldNameForChild(i);
      if (field === 'key') {
        // A negative key arrives as two `key` children, `-` and the number.
        keyParts.push(child);
      } else if (field === 'value') {
        keys.push(this.valueExpression(child, keyParts));
        keyParts = [];
        patterns.push(this.pattern(child));
      } else if (child.type === 'splat_pattern') {
        rest = this.starName(child);
      }
    }
    return makeNode('MatchMapping', { keys, patterns, rest });
  }

  private classPattern(node: Node): AstNode {
    const [cls, ...items] = this.context.children(node);
    const patterns: AstNode[] = [];
    const kwdAttrs: string[] = [];
    const kwdPatterns: AstNode[] = [];
    for (const item of items) {
      const inner = this.context.children(item)[0];
      if (inner?.type !== 'keyword_pattern') {
        patterns.push(this.pattern(item));
        continue;
      }
      const [name, ...valueParts] = this.parts(inner);
      kwdAttrs.push(this.context.identifierText(name));
      kwdPatterns.push(this.run(inner, valueParts));
    }
    return makeNode('MatchClass', { cls: this.dottedExpression(cls), patterns, kwd_attrs: kwdAttrs, kwd_patterns: kwdPatterns });
  }

  /**
   * The expression of a value pattern or mapping key: a literal, a signed
   * number, a complex literal `a + bj` or a dotted name. `parts` are the
   * sibling tokens that spell it.
   */
  private valueExpression(owner: Node, parts: Node[]): AstNode {
    if (parts.length === 2 && parts[0].type === '-') {
      return makeNode('UnaryOp', { op: makeNode('USub'), operand: this.context.expr(parts[1]) });
    }
    if (parts.length !== 1) throw this.context.syntaxError(owner, 'malformed value in a case pattern');
    const [part] = parts;
    if (part.type === 'dotted_name') return this.dottedExpression(part);
    if (part.type === 'complex_pattern') return this.complexLiteral(part);
    if (part.type in SINGLETONS) return makeNode('Constant', { value: SINGLETONS[part.type], kind: null });
    return this.context.expr(part);
  }

  /** `a.b.c` as nested `Attribute` loads on `Name('a')`. */
  private dottedExpression(node: Node): AstNode {
    const [first, ...rest] = this.context.children(node);
    let value = makeNode('Name', { id: this.context.identifierText(first), ctx: makeNode('Load') });
    for (const part of rest) value = makeNode('Attribute', { value, attr: this.context.identifierText(part), ctx: makeNode('Load') });
    return value;
  }

  /** `-1 + 2j`: a real part, possibly negated, plus or minus an imaginary literal. */
  private complexLiteral(node: Node): AstNode {
    const parts = node.children.filter((child): child is Node => child !== null && !isTrivia(child));
    const operatorIndex = parts.findIndex((part, i) => i > 0 && (part.type === '+' || part.type === '-'));
    if (operatorIndex < 0 || operatorIndex !== parts.length - 2) throw this.context.syntaxError(node, 'malformed complex literal in a case pattern');
    const left = this.valueExpression(node, parts.slice(0, operatorIndex));
    const right = this.context.expr(parts[parts.length - 1]);
    // CPython requires a real left part and an imaginary right part, as in `1 + 2j`.
    const real = left._type === 'UnaryOp' ? (left.operand as AstNode) : left;
    const realType = real._type === 'Constant' ? (real.value as PyConstant).py : null;
    if (realType !== 'int' && realType !== 'float') throw this.context.syntaxError(node, 'real number required in complex literal');
    if (right._type !== 'Constant' || (right.value as PyConstant).py !== 'complex') {
      throw this.context.syntaxError(node, 'imaginary number required in complex literal');
    }
    const op = makeNode(parts[operatorIndex].type === '+' ? 'Add' : 'Sub');
    return makeNode('BinOp', { left, op, right });
  }
}
