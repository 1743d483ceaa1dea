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
import type { Logger } from './logger.js';

/** Every plugin kind. Closed: code that switches on a kind checks it exhaustively. */
export const PLUGIN_KINDS = ['pruner', 'dataset', 'decoder', 'model-format', 'eval-task'] as const;

export type PluginKind = (typeof PLUGIN_KINDS)[number];

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
