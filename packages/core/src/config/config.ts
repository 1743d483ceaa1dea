/**
 * Run configs: plain JSON objects that describe a run completely, so it can be
 * saved next to its outputs, diffed against another run and replayed.
 *
 * Layers merge in the order defaults < config file < command-line flags. A
 * flag and a config key set the same field: `--sparsity 0.5` and
 * `{"prune": {"sparsity": 0.5}}` are the same thing once the command maps the
 * flag to its config path.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InputError, UsageError } from '../errors.js';
import { parseWithSchema } from '../validation.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Fields every run config has; packages spread this shape into their own schemas. */
export const baseRunConfigShape = {
  seed: z.number().int().default(0).describe('Seed of every random stream of the run'),
  device: z.enum(['auto', 'cpu', 'webgpu']).default('auto').describe('Compute device'),
  outputDir: z.string().optional().describe('Directory for outputs and the run manifest'),
};

export const baseRunConfigSchema = z.object(baseRunConfigShape);
export type BaseRunConfig = z.output<typeof baseRunConfigSchema>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges layers left to right: nested objects merge key by key, while arrays
 * and scalars from a later layer replace earlier ones. Undefined values are
 * skipped, so an unset flag does not erase a config key.
 */
export function mergeConfigLayers(...layers: (Record<string, unknown> | undefined)[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const current = result[key];
      result[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfigLayers(current, value) : value;
    }
  }
  return result;
}

/** Sets a dotted path (`prune.sparsity`) in an object, creating intermediate objects. */
export function setConfigPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(current[part])) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1]] = value;
}

/**
 * Builds the flags layer from parsed command options and a map of option name
 * to config path. Options the user did not set (undefined) are left out.
 */
export function flagsToConfig(options: Record<string, unknown>, paths: Record<string, string>): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  for (const [option, path] of Object.entries(paths)) {
    if (options[option] !== undefined) setConfigPath(layer, path, options[option]);
  }
  return layer;
}

/** Reads a JSON config file as an object, with errors that name the file. */
export async function readConfigObject(file: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError(`config file not found. Check the path given to --config.`, path);
    }
    throw new InputError(`cannot read the config file: ${(error as Error).message}`, path, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`invalid JSON in the config file (${(error as Error).message})`, path);
  }
  if (!isPlainObject(parsed)) throw new InputError('a config file must contain a JSON object', path);
  return parsed;
}

/** Reads and validates a config file on its own (schema defaults fill what it leaves out). */
export async function loadConfig<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  const raw = await readConfigObject(file);
  return parseWithSchema(schema, raw, `Invalid config ${resolve(file)}`);
}

export interface ConfigLayers {
  defaults?: Record<string, unknown>;
  /** Path of a JSON config file. */
  file?: string;
  flags?: Record<string, unknown>;
}

/**
 * Resolves a run config from its layers (defaults < file < flags) and
 * validates the result. The error heading names the file when there is one.
 */
export async function resolveConfig<S extends z.ZodType>(schema: S, layers: ConfigLayers): Promise<z.output<S>> {
  const fromFile = layers.file !== undefined ? await readConfigObject(layers.file) : undefined;
  const merged = mergeConfigLayers(layers.defaults, fromFile, layers.flags);
  const heading = layers.file !== undefined ? `Invalid run config (from ${resolve(layers.file)} and flags)` : 'Invalid run config';
  return parseWithSchema(schema, merged, heading);
}

/** JSON with object keys sorted at every level, so equal configs serialize identically. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (!isPlainObject(inner)) return inner;
    return Object.fromEntries(Object.keys(inner).sort().map((key) => [key, inner[key]]));
  });
}

/** SHA-256 of the stable serialization: equal for configs that differ only in key order. */
export function configHash(config: unknown): string {
  return createHash('sha256').update(stableStringify(config)).digest('hex');
}

/** Checks that a config survives JSON (no functions, NaN, Infinity, class instances), so it can be replayed. */
export function assertJsonSerializable(config: unknown, label = 'config'): asserts config is JsonValue {
  const visit = (value: unknown, path: string): void => {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new UsageError(`${label} ${path || 'value'} is ${value}, which JSON cannot store`);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${path}[${i}]`));
      return;
    }
    if (isPlainObject(value) && Object.getPrototypeOf(value) === Object.prototype) {
      for (const [key, item] of Object.entries(value)) visit(item, path ? `${path}.${key}` : key);
      return;
    }
    throw new UsageError(`${label} ${path || 'value'} is a ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}, which JSON cannot store`);
  };
  visit(config, '');
}
