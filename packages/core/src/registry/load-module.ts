/**
 * Loads third-party plugins from a module path or package name (`--plugin
 * ./my-pruner.js`, `--plugin sculpt-plugin-foo`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import { isLazyPluginEntry, isPlugin, type LazyPluginEntry, type Plugin } from '../plugin.js';

function looksLikePath(specifier: string): boolean {
  return (
    specifier.startsWith('.') ||
    isAbsolute(specifier) ||
    specifier.startsWith('file:') ||
    /\.(?:[cm]?[jt]s)$/.test(specifier)
  );
}

/** Resolves a specifier to a URL that `import()` accepts, relative to `cwd` for paths and packages alike. */
export function resolvePluginSpecifier(specifier: string, cwd: string): string {
  if (specifier.trim() === '') throw new InputError('Plugin module specifier is empty. Pass a file path or a package name to --plugin.');

  if (specifier.startsWith('file:')) return specifier;
  if (looksLikePath(specifier)) {
    const file = resolve(cwd, specifier);
    if (!existsSync(file)) {
      throw new InputError(
        `Plugin module "${specifier}" not found (looked for ${file}). Check the path; relative paths are resolved against ${cwd}.`,
        file,
      );
    }
    return pathToFileURL(file).href;
  }

  // A bare name is a package installed in the project that loads it (resolved from cwd).
  const require = createRequire(join(cwd, 'noop.js'));
  try {
    return pathToFileURL(require.resolve(specifier)).href;
  } catch (error) {
    throw new InputError(
      `Plugin package "${specifier}" not found from ${cwd}. Install it (npm install ${specifier}) or pass a path to its module file.`,
      undefined,
      { cause: error },
    );
  }
}

/**
 * Collects the plugins a module exports: a plugin as the default export, an
 * array of plugins as the default export, or a `plugins` array of plugins or
 * lazy entries (the same form as the built-in manifests).
 */
export function pluginsFromModule(module: Record<string, unknown>, specifier: string): (Plugin | LazyPluginEntry)[] {
  const found: (Plugin | LazyPluginEntry)[] = [];
  const candidates: unknown[] = [];
  if ('default' in module) candidates.push(...(Array.isArray(module.default) ? module.default : [module.default]));
  if (Array.isArray(module.plugins)) candidates.push(...module.plugins);

  for (const candidate of candidates) {
    if (isPlugin(candidate) || isLazyPluginEntry(candidate)) found.push(candidate);
  }
  if (found.length === 0) {
    const exported = Object.keys(module);
    throw new InputError(
      `Module "${specifier}" exports no plugin (its exports: ${exported.length > 0 ? exported.join(', ') : 'none'}). ` +
        'Export a plugin object ({ meta, create }) as default, or an array named "plugins".',
    );
  }
  return found;
}
