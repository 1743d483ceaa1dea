/**
 * String literals of the concrete tree to `Constant` and `JoinedStr` nodes:
 * prefixes, escapes, implicit concatenation and f-string replacement fields,
 * with the merging of adjacent literal text that CPython 3.11 applies.
 */
import type { Node } from 'web-tree-sitter';
import { makeNode, str, type AstNode, type PyConstant } from './nodes.js';
import { LiteralError, decodeEscapes } from './literals.js';

/** The parts of the tree converter that string conversion calls back into. */
export interface StringConversionContext {
  readonly source: string;
  expr(node: Node): AstNode;
  required(node: Node, name: string): Node;
  field(node: Node, name: string): Node | null;
  syntaxError(node: Node, detail: string): Error;
  unsupported(node: Node, construct: string): Error;
}

/** One string literal piece of a (possibly implicitly concatenated) string. */
type StringPart = { kind: 'text'; text: string } | { kind: 'value'; node: AstNode };

const constant = (value: PyConstant, kind: string | null = null): AstNode => makeNode('Constant', { value, kind });

export class StringLiteralConverter {
  constructor(private readonly context: StringConversionContext) {}


  convert(nodes: Node[]): AstNode {
    const parts: StringPart[] = [];
    let sawBytes = false;
    let sawText = false;
    let sawFormatted = false;
    let kind: string | null = null;
    nodes.forEach((node, index) => {
      const start = node.children.find((child) => child?.type === 'string_start');
      if (start === undefined || start === null) throw this.context.syntaxError(node, 'string literal without an opening quote');
      const prefix = start.text.replace(/['"]+$/, '').toLowerCase();
      // The closing quote is the opening one; tree-sitter's string_end can also swallow backslashes before it.
      const bodyEnd = node.endIndex - (start.text.length - prefix.length);
      if (index === 0 && prefix.includes('u')) kind = 'u';
      const isBytes = prefix.includes('b');
      if (isBytes) sawBytes = true;
      else sawText = true;
      if (prefix.includes('f')) {
        sawFormatted = true;
        parts.push(...this.formattedParts(node, prefix.includes('r'), bodyEnd));
      } else {
        const body = this.context.source.slice(start.endIndex, bodyEnd);
        parts.push({ kind: 'text', text: this.decodeBody(node, body, prefix) });
      }
    });
    if (sawBytes && sawText) throw this.context.syntaxError(nodes[0], 'cannot mix bytes and nonbytes literals');
    if (sawBytes) {
      const text = parts.map((part) => (part.kind === 'text' ? part.text : '')).join('');
      const bytes: number[] = [];
      for (let i = 0; i < text.length; i++) bytes.push(text.charCodeAt(i));
      return constant({ py: 'bytes', value: bytes });
    }
    if (!sawFormatted) return constant(str(parts.map((part) => (part.kind === 'text' ? part.text : '')).join('')), kind);
    return makeNode('JoinedStr', { values: this.mergeParts(parts) });
  }

  private decodeBody(node: Node, body: string, prefix: string): string {
    const isBytes = prefix.includes('b');
    if (isBytes && /[^\x00-\x7f]/.test(body)) throw this.context.syntaxError(node, 'bytes can only contain ASCII literal characters');
    if (prefix.includes('r')) return body;
    try {
      return decodeEscapes(body, isBytes);
    } catch (error) {
      if (error instanceof LiteralError) {
        if (error.message.includes('\\N{')) throw this.context.unsupported(node, '\\N{...} escape');
        throw this.context.syntaxError(node, error.message);
      }
      throw error;
    }
  }

  /** Joins adjacent literal text into one Constant and drops empty text, as CPython does inside a JoinedStr. */
  private mergeParts(parts: StringPart[]): AstNode[] {
    const values: AstNode[] = [];
    let text = '';
    for (const part of parts) {
      if (part.kind === 'text') {
        text += part.text;
        continue;
      }
      if (text !== '') values.push(constant(str(text)));
      text = '';
      values.push(part.node);
    }
    if (text !== '') values.push(constant(str(text)));
    return values;
  }

  /** Literal text and replacement fields of one f-string, in source order. */
  private formattedParts(node: Node, raw: boolean, bodyEnd: number): StringPart[] {
    const parts: StringPart[] = [];
    let cursor = -1;
    for (const child of node.children) {
      if (child === null) continue;
      if (child.type === 'string_start') {
        cursor = child.endIndex;
      } else if (child.type === 'interpolation' || child.type === 'string_end') {
        const textEnd = child.type === 'string_end' ? bodyEnd : child.startIndex;
        parts.push({ kind: 'text', text: this.fstringText(node, this.context.source.slice(cursor, textEnd), raw) });
        cursor = child.endIndex;
        if (child.type === 'interpolation') parts.push(...this.interpolation(child, raw));
      }
    }
    return parts;
  }

  private fstringText(node: Node, text: string, raw: boolean): string {
    const unescaped = text.replace(/\{\{/g, '{').replace(/\}\}/g, '}');
    return this.decodeBody(node, unescaped, raw ? 'r' : '');
  }

  private interpolation(node: Node, raw: boolean): StringPart[] {
    const expression = this.context.required(node, 'expression');
    const conversionNode = this.context.field(node, 'type_conversion');
    const specNode = this.context.field(node, 'format_specifier');
    const parts: StringPart[] = [];
    let conversion = conversionNode === null ? -1 : conversionNode.text.charCodeAt(1);
    // `{expr=}` (self-documenting) emits the expression text and '=' as literal text, and defaults to !r.
    const equals = node.children.find((child) => child?.type === '=');
    if (equals !== undefined && equals !== null) {
      const openBrace = node.child(0)!;
      // The literal keeps the whitespace after '=' too, up to the conversion, format spec or closing brace.
      const after = equals.nextSibling;
      const textEnd = after === null ? equals.endIndex : after.startIndex;
      parts.push({ kind: 'text', text: this.context.source.slice(openBrace.endIndex, textEnd) });
      if (conversionNode === null && specNode === null) conversion = 'r'.charCodeAt(0);
    }
    const value = expression.type === 'expression_list' ? this.context.expr(expression) : this.context.expr(expression);
    const formatSpec = specNode === null ? null : this.formatSpec(specNode, raw);
    parts.push({ kind: 'value', node: makeNode('FormattedValue', { value, conversion, format_spec: formatSpec }) });
    return parts;
  }

  private formatSpec(node: Node, raw: boolean): AstNode {
    const parts: StringPart[] = [];
    let cursor = node.startIndex + 1; // skip ':'
    for (const child of node.children) {
      if (child === null || child.type !== 'format_expression') continue;
      parts.push({ kind: 'text', text: this.fstringText(node, this.context.source.slice(cursor, child.startIndex), raw) });
      parts.push(...this.interpolation(child, raw));
      cursor = child.endIndex;
    }
    parts.push({ kind: 'text', text: this.fstringText(node, this.context.source.slice(cursor, node.endIndex), raw) });
    return makeNode('JoinedStr', { values: this.mergeParts(parts) });
  }
}
