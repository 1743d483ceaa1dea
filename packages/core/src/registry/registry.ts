/**
 * The plugin registry: every pruner, dataset, decoder, model format and
 * evaluation task is looked up here by kind and name.
 *
 * Built-ins are registered from lazy manifests, so listing plugins imports no
 * plugin code, and a plugin's module is imported only on its first `get`.
 * Third-party plugins come from `use(plugin)` or `load(specifier)`.
 */
import { InputError, SculptError, UsageError } from '../errors.js';
import { getLogger, type Logger } from '../logger.js';
import {
  describePluginKind,
  isLazyPluginEntry,
  isPlugin,
  isPluginKind,
  PLUGIN_KINDS,
  type LazyPluginEntry,
  type Plugin,
  type PluginContext,
  type PluginInstance,
  type PluginKind,
} from '../plugin.js';
import { parseWithSchema } from '../validation.js';
import { plugins as decoderPlugins } from '../decoding/plugins.js';
import { BUILTIN_MANIFESTS } from './builtins.js';
import { pluginsFromModule, resolvePluginSpecifier } from './load-module.js';

/** Origin of a registered plugin, shown by `sculpt plugins list`. */
export type PluginSource = { type: 'builtin'; manifest: string } | { type: 'module'; specifier: string } | { type: 'object' };

/** A registry row as listings show it. `version` and `loaded` are known only once the module was imported. */
export interface PluginInfo {
  kind: PluginKind;
  name: string;
  description: string;
  source: PluginSource;
  loaded: boolean;
  version?: string;
}

interface Entry {
  kind: PluginKind;
  name: string;
  description: string;
  source: PluginSource;
  load: () => Promise<Plugin>;
  /** Set on first `get`; shared by concurrent callers so a module is imported once. */
  loading?: Promise<Plugin>;
  plugin?: Plugin;
}

export interface RegistryOptions {
  /** Manifest modules to import on first use. Defaults to BUILTIN_MANIFESTS. Pass `[]` to import none. */
  manifests?: readonly string[];
  /** Lazy entries already in memory. Defaults to core's decoders. Pass `[]` to leave them out. */
  entries?: readonly LazyPluginEntry[];
  /** Directory that relative `load()` paths and package names resolve from. */
  cwd?: string;
  logger?: Logger;
}

function key(kind: PluginKind, name: string): string {
  return `${kind}:${name}`;
}

function describeSource(source: PluginSource): string {
  switch (source.type) {
    case 'builtin':
      return `built-in manifest ${source.manifest}`;
    case 'module':
      return `module ${source.specifier}`;
    case 'object':
      return 'a plugin object passed to use()';
    default:
      return source satisfies never;
  }
}

export class Registry {
  private readonly entries = new Map<string, Entry>();
  private readonly manifests: readonly string[];
  private readonly initialEntries: readonly LazyPluginEntry[];
  private readonly cwd: string;
  private readonly log: Logger;
  private builtinsLoading?: Promise<void>;

  constructor(options: RegistryOptions = {}) {
    this.manifests = options.manifests ?? BUILTIN_MANIFESTS;
    this.initialEntries = options.entries ?? decoderPlugins;
    this.cwd = options.cwd ?? process.cwd();
    this.log = options.logger ?? getLogger('core:registry');
  }

  /**
   * Imports the built-in manifests once. Called by every lookup; a manifest
   * that fails to import is logged and skipped, so one broken package does not
   * take the other plugins down.
   */
  ensureBuiltins(): Promise<void> {
    this.builtinsLoading ??= this.loadBuiltins();
    return this.builtinsLoading;
  }

  private async loadBuiltins(): Promise<void> {
    for (const entry of this.initialEntries) this.addEntry(entry, { type: 'builtin', manifest: '@sculpt/core' });

    for (const manifest of this.manifests) {
      let module: Record<string, unknown>;
      try {
        // A variable specifier keeps bundlers and tsc from turning this into a static dependency.
        const specifier: string = manifest;
        module = (await import(specifier)) as Record<string, unknown>;
      } catch (error) {
        this.log.warn(`Skipping plugin manifest ${manifest}: it failed to load (${(error as Error).message})`);
        continue;
      }
      const list = module.plugins;
      if (!Array.isArray(list)) {
        this.log.warn(`Skipping plugin manifest ${manifest}: it has no "plugins" array export`);
        continue;
      }
      for (const item of list) {
        if (!isLazyPluginEntry(item)) {
          this.log.warn(`Skipping a malformed entry in plugin manifest ${manifest}`, { entry: String(item) });
          continue;
        }
        try {
          this.addEntry(item, { type: 'builtin', manifest });
        } catch (error) {
          this.log.error((error as Error).message);
        }
      }
    }
  }

  private addEntry(entry: LazyPluginEntry, source: PluginSource): void {
    if (!isPluginKind(entry.kind)) {
      throw new UsageError(
        `Plugin "${entry.name}" from ${describeSource(source)} has unknown kind "${entry.kind}" (known kinds: ${PLUGIN_KINDS.join(', ')})`,
      );
    }
    const id = key(entry.kind, entry.name);
    const existing = this.entries.get(id);
    if (existing) {
      throw new UsageError(
        `Duplicate ${describePluginKind(entry.kind)} "${entry.name}": registered by ${describeSource(existing.source)} and again by ${describeSource(source)}. Rename one of them.`,
      );
    }
    this.entries.set(id, {
      kind: entry.kind,
      name: entry.name,
      description: entry.description,
      source,
      load: () => entry.load(),
    });
  }

  private addPlugin(plugin: Plugin, source: PluginSource): void {
    this.addEntry(
      { kind: plugin.meta.kind, name: plugin.meta.name, description: plugin.meta.description, load: async () => plugin },
      source,
    );
    const entry = this.entries.get(key(plugin.meta.kind, plugin.meta.name));
    if (entry) entry.plugin = plugin;
  }

  /** Registers a plugin object (already imported). Throws UsageError on a duplicate kind and name. */
  async use(plugin: Plugin): Promise<void> {
    if (!isPlugin(plugin)) throw new UsageError('use() expects a plugin object with meta {name, kind, version, description, options} and create()');
    await this.ensureBuiltins();
    this.addPlugin(plugin, { type: 'object' });
  }

  /**
   * Imports a third-party module by path or package name and registers every
   * plugin it exports. Returns the registered `kind:name` ids.
   */
  async load(specifier: string): Promise<string[]> {
    await this.ensureBuiltins();
    const url = resolvePluginSpecifier(specifier, this.cwd);
    let module: Record<string, unknown>;
    try {
      module = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new InputError(`Plugin module "${specifier}" failed to load: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
    const ids: string[] = [];
    for (const found of pluginsFromModule(module, specifier)) {
      const source: PluginSource = { type: 'module', specifier };
      if (isPlugin(found)) this.addPlugin(found, source);
      else this.addEntry(found, source);
      const kind = isPlugin(found) ? found.meta.kind : found.kind;
      const name = isPlugin(found) ? found.meta.name : found.name;
      ids.push(key(kind, name));
    }
    this.log.debug(() => `Loaded ${ids.join(', ')} from ${specifier}`);
    return ids;
  }

  /** Lists registered plugins, sorted by kind (in PLUGIN_KINDS order) and name. */
  async list(kind?: PluginKind): Promise<PluginInfo[]> {
    await this.ensureBuiltins();
    const rows = [...this.entries.values()].filter((entry) => kind === undefined || entry.kind === kind);
    rows.sort((a, b) => PLUGIN_KINDS.indexOf(a.kind) - PLUGIN_KINDS.indexOf(b.kind) || a.name.localeCompare(b.name));
    return rows.map((entry) => ({
      kind: entry.kind,
      name: entry.name,
      description: entry.description,
      source: entry.source,
      loaded: entry.plugin !== undefined,
      ...(entry.plugin ? { version: entry.plugin.meta.version } : {}),
    }));
  }

  /** Names registered for a kind, sorted. */
  async names(kind: PluginKind): Promise<string[]> {
    return (await this.list(kind)).map((info) => info.name);
  }

  async has(kind: PluginKind, name: string): Promise<boolean> {
    await this.ensureBuiltins();
    return this.entries.has(key(kind, name));
  }

  /**
   * Returns the plugin, importing its module on the first call. Throws
   * UsageError for an unknown name, listing the names registered for the kind.
   */
  async get<K extends PluginKind>(kind: K, name: string): Promise<Plugin<K>> {
    await this.ensureBuiltins();
    const entry = this.entries.get(key(kind, name));
    if (!entry) throw await this.unknownName(kind, name);
    if (entry.plugin) return entry.plugin as Plugin<K>;

    entry.loading ??= this.importEntry(entry);
    return (await entry.loading) as Plugin<K>;
  }

  private async importEntry(entry: Entry): Promise<Plugin> {
    let plugin: unknown;
    try {
      plugin = await entry.load();
    } catch (error) {
      // Allow a retry after a transient failure (a missing optional dependency that gets installed).
      entry.loading = undefined;
      throw new SculptError(
        `Failed to load ${describePluginKind(entry.kind)} "${entry.name}" from ${describeSource(entry.source)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (!isPlugin(plugin)) {
      entry.loading = undefined;
      throw new SculptError(
        `The loader of ${entry.kind} "${entry.name}" (${describeSource(entry.source)}) returned something that is not a plugin object`,
      );
    }
    if (plugin.meta.kind !== entry.kind || plugin.meta.name !== entry.name) {
      entry.loading = undefined;
      throw new SculptError(
        `The loader registered as ${entry.kind} "${entry.name}" returned ${plugin.meta.kind} "${plugin.meta.name}" (${describeSource(entry.source)}); the manifest and the plugin's meta must agree`,
      );
    }
    entry.plugin = plugin;
    this.log.debug(() => `Loaded ${entry.kind} "${entry.name}" v${plugin.meta.version}`);
    return plugin;
  }

  private async unknownName(kind: PluginKind, name: string): Promise<UsageError> {
    const names = await this.names(kind);
    const available = names.length > 0 ? `Available: ${names.join(', ')}` : `No ${describePluginKind(kind)} is registered`;
    const elsewhere = [...this.entries.values()].filter((entry) => entry.name === name).map((entry) => entry.kind);
    const hint = elsewhere.length > 0 ? ` ("${name}" exists as ${elsewhere.join(', ')})` : '';
    return new UsageError(`Unknown ${describePluginKind(kind)} "${name}". ${available}.${hint}`);
  }

  /** Validates raw options against the plugin's schema without creating an instance. */
  async parseOptions<K extends PluginKind>(kind: K, name: string, rawOptions: unknown = {}): Promise<unknown> {
    const plugin = await this.get(kind, name);
    return parseWithSchema(plugin.meta.options, rawOptions ?? {}, `Invalid options for ${describePluginKind(kind)} "${name}"`);
  }

  /**
   * Validates options with the plugin's schema and creates an instance. Errors
   * name the option, the value given and what is allowed.
   */
  async create<K extends PluginKind>(
    kind: K,
    name: string,
    rawOptions: unknown = {},
    context: Partial<PluginContext> = {},
  ): Promise<PluginInstance<K>> {
    const plugin = await this.get(kind, name);
    const options = parseWithSchema(
      plugin.meta.options,
      rawOptions ?? {},
      `Invalid options for ${describePluginKind(kind)} "${name}"`,
    );
    const fullContext: PluginContext = { logger: context.logger ?? getLogger(`${kind}:${name}`), signal: context.signal };
    return (await plugin.create(options, fullContext)) as PluginInstance<K>;
  }
}
