/**
 * Turns zod validation failures into one readable message that names each
 * offending option, the value it had and what is allowed. Used for plugin
 * options and run configs, so a user sees `sparsity: got 1.5, expected a
 * value <= 1` instead of a JSON dump of issues.
 */
import { z } from 'zod';
import { UsageError } from './errors.js';

type Issue = z.core.$ZodIssue;

/** Formats a dotted path the way a user writes it in a config file or flag: `prune.sparsity`, `tasks[2]`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let current: unknown = root;
  for (const part of path) {
    if (typeof current !== 'object' || current === null || !(part in current)) return { found: false, value: undefined };
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return { found: true, value: current };
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** Describes in words what the schema allows, for the issue kinds where zod's message leaves it out. */
function describeExpectation(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => showValue(v)).join(', ')}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' || issue.origin === 'string' ? 'a length ' : 'a value '}${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'too_small':
      return `expected ${issue.origin === 'array' || issue.origin === 'string' ? 'a length ' : 'a value '}${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    default:
      return issue.message;
  }
}

/** Formats one issue as `<path>: got <value>, <expectation>`. */
export function formatZodIssue(issue: Issue, input: unknown, schema?: z.ZodType): string {
  const where = formatIssuePath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return formatUnknownKeys(issue.keys.map((key) => [...issue.path, key]), schema);
  }
  const { found, value } = valueAt(input, issue.path);
  const got = found ? `got ${showValue(value)}` : 'missing';
  const expectation = describeExpectation(issue);
  // zod's own message adds detail for refinements and formats; skip it where it repeats the expectation.
  const detail = expectation === issue.message ? '' : ` (${issue.message})`;
  return `${where === '' ? 'value' : where}: ${got}, ${expectation}${detail}`;
}

function formatUnknownKeys(paths: readonly (readonly PropertyKey[])[], schema: z.ZodType | undefined): string {
  const parent = paths[0].slice(0, -1);
  const allowed = schema ? objectKeysAt(schema, parent) : undefined;
  const names = paths.map((path) => JSON.stringify(formatIssuePath(path))).join(', ');
  let hint = '';
  if (allowed && allowed.length > 0) hint = ` (allowed: ${allowed.join(', ')})`;
  else if (allowed) hint = ' (no options are accepted here)';
  return `unknown option${paths.length > 1 ? 's' : ''} ${names}${hint}`;
}

/** Lists the keys an object schema accepts at a path, walking through nested objects. */
function objectKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const part of path) {
    if (!(current instanceof z.ZodObject)) return undefined;
    const shape = current.shape as Record<string, z.ZodType>;
    current = typeof part === 'string' && part in shape ? unwrap(shape[part]) : undefined;
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape as object) : undefined;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/**
 * Finds keys that no object in the schema declares, so a misspelt option
 * (`sparsty`) fails loudly instead of being dropped by zod's default strip
 * mode. Objects with a catchall (passthrough) accept any key on purpose.
 */
export function findUnknownKeys(schema: z.ZodType, input: unknown): PropertyKey[][] {
  const unknown: PropertyKey[][] = [];
  const visit = (node: z.ZodType | undefined, value: unknown, path: PropertyKey[]) => {
    const inner = unwrap(node);
    if (!(inner instanceof z.ZodObject) || typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const catchall = inner.def.catchall;
    if (catchall !== undefined && !(catchall instanceof z.ZodNever)) return;
    const shape = inner.shape as Record<string, z.ZodType>;
    for (const [key, child] of Object.entries(value)) {
      if (!(key in shape)) unknown.push([...path, key]);
      else visit(shape[key], child, [...path, key]);
    }
  };
  visit(schema, input, []);
  return unknown;
}

/**
 * Validates input against a schema and returns the parsed output, or throws
 * UsageError whose message lists every unknown key and every invalid value
 * under the given heading (for example `Invalid options for pruner "wanda"`).
 */
export function parseWithSchema<S extends z.ZodType>(schema: S, input: unknown, heading: string): z.output<S> {
  const lines: string[] = [];
  const unknown = findUnknownKeys(schema, input);
  const byParent = new Map<string, PropertyKey[][]>();
  for (const path of unknown) {
    const parent = formatIssuePath(path.slice(0, -1));
    byParent.set(parent, [...(byParent.get(parent) ?? []), path]);
  }
  for (const paths of byParent.values()) lines.push(formatUnknownKeys(paths, schema));

  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      // Strict objects report unknown keys themselves; those are listed above already.
      if (issue.code !== 'unrecognized_keys') lines.push(formatZodIssue(issue, input, schema));
      else if (unknown.length === 0) lines.push(formatZodIssue(issue, input, schema));
    }
  }
  if (lines.length > 0) {
    throw new UsageError(`${heading}:\n${lines.map((line) => `  - ${line}`).join('\n')}`);
  }
  return (result as { data: z.output<S> }).data;
}
