/**
 * The plugin contract. A plugin is a plain object: `meta` describes it and
 * carries a zod schema for its options, and `create` builds the working
 * instance from validated options.
 *
 * What an instance must provide depends on the kind and is defined by the
 * package that consumes that kind (pruners for `pruner`, datasets for
 * `dataset`, core for `decoder`, ...).
 */
import type { z } from 'zod';
import type { Decoder } from './decoding/model.js';
import type { Logger } from './logger.js';

/** Every plugin kind. Closed: code that switches on a kind checks it exhaustively. */
export const PLUGIN_KINDS = ['pruner', 'dataset', 'decoder', 'model-format', 'eval-task'] as const;

export type PluginKind = (typeof PLUGIN_KINDS)[number];

export function isPluginKind(value: string): value is PluginKind {
  return (PLUGIN_KINDS as readonly string[]).includes(value);
}

/** A plural noun for a kind, for listings and error messages ("no pruning method named x"). */
export function describePluginKind(kind: PluginKind): string {
  switch (kind) {
    case 'pruner':
      return 'pruning method';
    case 'dataset':
      return 'dataset';
    case 'decoder':
      return 'decoding strategy';
    case 'model-format':
      return 'model format';
    case 'eval-task':
      return 'evaluation task';
    default:
      return kind satisfies never;
  }
}

/**
 * The instance type that `create` returns for each kind. Packages that define
 * a kind's instance interface add it by declaration merging, for example
 * `declare module '@sculpt/core' { interface PluginInstanceMap { pruner: Pruner } }`.
 * Kinds without an entry produce `unknown`.
 */
export interface PluginInstanceMap {
  decoder: Decoder;
}

export type PluginInstance<K extends PluginKind> = K extends keyof PluginInstanceMap ? PluginInstanceMap[K] : unknown;

export interface PluginMeta<K extends PluginKind = PluginKind, S extends z.ZodType = z.ZodType> {
  /** Registry name, unique within its kind (e.g. "wanda", "c4", "greedy"). */
  name: string;
  kind: K;
  /** Semantic version of the plugin's behaviour; recorded with every run. */
  version: string;
  /** One line for `--help` and registry listings. */
  description: string;
  /** Schema of the options accepted by `create`. */
  options: S;
}

/** What every plugin instance is given besides its options. */
export interface PluginContext {
  logger: Logger;
  signal?: AbortSignal;
}

export interface Plugin<K extends PluginKind = PluginKind, S extends z.ZodType = z.ZodType, I = unknown> {
  meta: PluginMeta<K, S>;
  create(options: z.output<S>, context: PluginContext): I | Promise<I>;
}

/** Identity helper that infers a plugin's option and instance types. */
export function definePlugin<K extends PluginKind, S extends z.ZodType, I>(plugin: Plugin<K, S, I>): Plugin<K, S, I> {
  return plugin;
}

/**
 * A built-in plugin known by name before its module is imported, so listing
 * plugins stays cheap and heavy code (GPU kernels, parsers) loads on first use.
 */
export interface LazyPluginEntry {
  kind: PluginKind;
  name: string;
  description: string;
  load(): Promise<Plugin>;
}

/** Checks the shape of a value that claims to be a plugin (third-party modules are not type-checked). */
export function isPlugin(value: unknown): value is Plugin {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { meta?: unknown; create?: unknown };
  if (typeof candidate.create !== 'function') return false;
  if (typeof candidate.meta !== 'object' || candidate.meta === null) return false;
  const meta = candidate.meta as Record<string, unknown>;
  return (
    typeof meta.name === 'string' &&
    typeof meta.kind === 'string' &&
    typeof meta.version === 'string' &&
    typeof meta.description === 'string' &&
    typeof meta.options === 'object' &&
    meta.options !== null &&
    typeof (meta.options as { safeParse?: unknown }).safeParse === 'function'
  );
}

/** Checks the shape of a lazy manifest entry. */
export function isLazyPluginEntry(value: unknown): value is LazyPluginEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.kind === 'string' &&
    typeof entry.name === 'string' &&
    typeof entry.description === 'string' &&
    typeof entry.load === 'function'
  );
}
