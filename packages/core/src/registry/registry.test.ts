import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError, UsageError } from '../errors.js';
import { setLogSink, stderrSink, setLogLevel, type LogRecord } from '../logger.js';
import { definePlugin, type Plugin } from '../plugin.js';
import { Registry } from './registry.js';

const zodUrl = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;
const dir = mkdtempSync(join(tmpdir(), 'sculpt-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

declare global {
  // Set by the plugin module written below when it is imported.
  var __sculptHeavyImports: number | undefined;
  var __sculptManifestLoads: number | undefined;
}

/** Writes a manifest with one lazily loaded pruner whose module counts its own imports. */
function writeLazyManifest(): string {
  writeFileSync(
    join(dir, 'heavy.mjs'),
    `import { z } from '${zodUrl}';
globalThis.__sculptHeavyImports = (globalThis.__sculptHeavyImports ?? 0) + 1;
export default {
  meta: { name: 'heavy', kind: 'pruner', version: '2.1.0', description: 'heavy test pruner', options: z.object({ sparsity: z.number().min(0).max(1) }) },
  create: (options) => ({ sparsity: options.sparsity }),
};
`,
  );
  writeFileSync(
    join(dir, 'manifest.mjs'),
    `export const plugins = [
  { kind: 'pruner', name: 'heavy', description: 'heavy test pruner', load: async () => {
      globalThis.__sculptManifestLoads = (globalThis.__sculptManifestLoads ?? 0) + 1;
      return (await import('./heavy.mjs')).default;
  } },
  { kind: 'dataset', name: 'tiny', description: 'tiny test dataset', load: async () => { throw new Error('not needed'); } },
];
`,
  );
  return pathToFileURL(join(dir, 'manifest.mjs')).href;
}

const fakeDecoder = definePlugin({
  meta: { name: 'fake', kind: 'decoder', version: '0.0.1', description: 'test decoder', options: z.object({ beams: z.number().int().min(1).default(2) }) },
  create: (options) => ({ name: 'fake', beams: options.beams }) as never,
});

describe('Registry', () => {
  const manifest = writeLazyManifest();

  it('lists built-ins without importing their modules', async () => {
    const registry = new Registry({ manifests: [manifest], entries: [] });
    const rows = await registry.list();
    expect(rows.map((row) => `${row.kind}:${row.name}`)).toEqual(['pruner:heavy', 'dataset:tiny']);
    expect(rows[0].loaded).toBe(false);
    expect(globalThis.__sculptHeavyImports).toBeUndefined();

    const plugin = await registry.get('pruner', 'heavy');
    expect(plugin.meta.version).toBe('2.1.0');
    expect(globalThis.__sculptHeavyImports).toBe(1);
    expect((await registry.list('pruner'))[0]).toMatchObject({ loaded: true, version: '2.1.0' });
  });

  it('imports a module once for concurrent gets', async () => {
    globalThis.__sculptManifestLoads = 0;
    const registry = new Registry({ manifests: [manifest], entries: [] });
    await Promise.all([registry.get('pruner', 'heavy'), registry.get('pruner', 'heavy'), registry.get('pruner', 'heavy')]);
    expect(globalThis.__sculptManifestLoads).toBe(1);
  });

  it('lists the core decoders by default', async () => {
    const registry = new Registry({ manifests: [] });
    expect(await registry.names('decoder')).toEqual(['beam', 'constrained', 'greedy', 'sample']);
  });

  it('logs and skips a manifest that fails to load', async () => {
    const records: LogRecord[] = [];
    setLogSink((record) => records.push(record));
    setLogLevel('warn');
    try {
      const registry = new Registry({ manifests: ['@sculpt/no-such-package/plugins', manifest], entries: [] });
      expect(await registry.names('pruner')).toEqual(['heavy']);
    } finally {
      setLogSink(stderrSink);
      setLogLevel('silent');
    }
    expect(records).toHaveLength(1);
    expect(records[0].message).toContain('@sculpt/no-such-package/plugins');
  });

  it('rejects duplicate names within a kind', async () => {
    const registry = new Registry({ manifests: [], entries: [] });
    await registry.use(fakeDecoder as Plugin);
    await expect(registry.use(fakeDecoder as Plugin)).rejects.toThrow(/Duplicate decoding strategy "fake"/);
  });

  it('allows one name in two kinds', async () => {
    const registry = new Registry({ manifests: [], entries: [] });
    await registry.use(fakeDecoder as Plugin);
    await registry.use({ ...fakeDecoder, meta: { ...fakeDecoder.meta, kind: 'dataset' } } as Plugin);
    expect((await registry.list()).map((row) => row.kind)).toEqual(['dataset', 'decoder']);
  });

  it('lists alternatives for an unknown name', async () => {
    const registry = new Registry({ manifests: [] });
    const error = await registry.get('decoder', 'greddy').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe('Unknown decoding strategy "greddy". Available: beam, constrained, greedy, sample.');
  });

  it('says when a kind has no plugins', async () => {
    const registry = new Registry({ manifests: [], entries: [] });
    await expect(registry.get('eval-task', 'piqa')).rejects.toThrow('No evaluation task is registered');
  });

  it('validates options and names the bad value', async () => {
    const registry = new Registry({ manifests: [manifest], entries: [] });
    await expect(registry.create('pruner', 'heavy', { sparsity: 1.5 })).rejects.toThrow(
      'Invalid options for pruning method "heavy":\n  - sparsity: got 1.5, expected a value <= 1',
    );
    await expect(registry.create('pruner', 'heavy', { sparsity: 0.5, sparsty: 1 })).rejects.toThrow(
      'unknown option "sparsty" (allowed: sparsity)',
    );
    expect(await registry.create('pruner', 'heavy', { sparsity: 0.5 })).toEqual({ sparsity: 0.5 });
  });

  it('applies schema defaults in create', async () => {
    const registry = new Registry({ manifests: [], entries: [] });
    await registry.use(fakeDecoder as Plugin);
    expect(await registry.create('decoder', 'fake')).toEqual({ name: 'fake', beams: 2 });
  });

  it('wraps a failing loader with the plugin name', async () => {
    const registry = new Registry({ manifests: [manifest], entries: [] });
    await expect(registry.get('dataset', 'tiny')).rejects.toThrow('Failed to load dataset "tiny" from built-in manifest');
  });

  it('rejects a loader that returns another plugin', async () => {
    const registry = new Registry({
      manifests: [],
      entries: [{ kind: 'decoder', name: 'alias', description: 'wrong', load: async () => fakeDecoder as Plugin }],
    });
    await expect(registry.get('decoder', 'alias')).rejects.toThrow('returned decoder "fake"');
  });
});

describe('Registry.load', () => {
  it('loads a default-exported plugin from a file', async () => {
    writeFileSync(
      join(dir, 'my-pruner.mjs'),
      `import { z } from '${zodUrl}';
export default {
  meta: { name: 'half', kind: 'pruner', version: '1.0.0', description: 'prune half of every row', options: z.object({}) },
  create: () => ({ sparsity: 0.5 }),
};
`,
    );
    const registry = new Registry({ manifests: [], entries: [], cwd: dir });
    expect(await registry.load('./my-pruner.mjs')).toEqual(['pruner:half']);
    expect(await registry.list('pruner')).toEqual([
      expect.objectContaining({ name: 'half', loaded: true, source: { type: 'module', specifier: './my-pruner.mjs' } }),
    ]);
    expect(await registry.create('pruner', 'half')).toEqual({ sparsity: 0.5 });
  });

  it('loads a plugins array', async () => {
    writeFileSync(
      join(dir, 'pair.mjs'),
      `import { z } from '${zodUrl}';
const make = (name) => ({ meta: { name, kind: 'eval-task', version: '1.0.0', description: name, options: z.object({}) }, create: () => name });
export const plugins = [make('alpha'), make('beta')];
`,
    );
    const registry = new Registry({ manifests: [], entries: [], cwd: dir });
    expect(await registry.load(join(dir, 'pair.mjs'))).toEqual(['eval-task:alpha', 'eval-task:beta']);
  });

  it('reports a missing file with its resolved path', async () => {
    const registry = new Registry({ manifests: [], entries: [], cwd: dir });
    const error = await registry.load('./missing.js').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain(`Plugin module "./missing.js" not found (looked for ${join(dir, 'missing.js')})`);
  });

  it('loads a plugin package by name', async () => {
    const packageDir = join(dir, 'node_modules', 'sculpt-plugin-demo');
    mkdirSync(packageDir, { recursive: true });
    writeFileSync(join(packageDir, 'package.json'), JSON.stringify({ name: 'sculpt-plugin-demo', type: 'module', main: 'index.js' }));
    writeFileSync(
      join(packageDir, 'index.js'),
      `import { z } from '${zodUrl}';
export const plugins = [{ kind: 'dataset', name: 'demo-corpus', description: 'demo', load: async () => ({
  meta: { name: 'demo-corpus', kind: 'dataset', version: '0.2.0', description: 'demo', options: z.object({}) },
  create: () => 'corpus',
}) }];
`,
    );
    const registry = new Registry({ manifests: [], entries: [], cwd: dir });
    expect(await registry.load('sculpt-plugin-demo')).toEqual(['dataset:demo-corpus']);
    expect((await registry.list('dataset'))[0]).toMatchObject({ name: 'demo-corpus', loaded: false });
    expect(await registry.create('dataset', 'demo-corpus')).toBe('corpus');
  });

  it('reports a missing package', async () => {
    const registry = new Registry({ manifests: [], entries: [], cwd: dir });
    await expect(registry.load('sculpt-plugin-that-does-not-exist')).rejects.toThrow(
      'Plugin package "sculpt-plugin-that-does-not-exist" not found',
    );
  });

  it('rejects a module without plugins', async () => {
    writeFileSync(join(dir, 'empty.mjs'), 'export const answer = 42;\n');
    const registry = new Registry({ manifests: [], entries: [], cwd: dir });
    await expect(registry.load('./empty.mjs')).rejects.toThrow('Module "./empty.mjs" exports no plugin (its exports: answer)');
  });

  it('reports a module that throws on import', async () => {
    writeFileSync(join(dir, 'broken.mjs'), "throw new Error('boom');\n");
    const registry = new Registry({ manifests: [], entries: [], cwd: dir });
    await expect(registry.load('./broken.mjs')).rejects.toThrow('Plugin module "./broken.mjs" failed to load: boom');
  });
});
