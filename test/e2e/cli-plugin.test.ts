/**
 * A third-party pruner, written as a user would (the example of the core
 * docs), loaded with --plugin into the real `sculpt prune` on the
 * stories260K llama2.c model.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../..');
const model = resolve(repoRoot, '../shared/data/models/stories260K/stories260K.bin');
const dir = mkdtempSync(join(tmpdir(), 'sculpt-plugin-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The module lives outside the repository, so it imports zod by absolute URL.
const zodUrl = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;
const pluginFile = join(dir, 'row-magnitude.mjs');
writeFileSync(
  pluginFile,
  `import { z } from '${zodUrl}';

export default {
  meta: {
    name: 'row-magnitude',
    kind: 'pruner',
    version: '1.0.0',
    description: 'Prune the smallest |W| within every output row',
    options: z.object({}).strict(),
  },
  create() {
    return {
      statistics: [],
      supportsPattern: false,
      pruneLayer(layer) {
        const { rows, cols, data } = layer.weight;
        const mask = new Uint8Array(rows * cols);
        const cut = Math.floor(cols * layer.sparsity);
        for (let r = 0; r < rows; r++) {
          const order = Array.from({ length: cols }, (_, c) => r * cols + c);
          order.sort((a, b) => Math.abs(data[a]) - Math.abs(data[b]));
          for (const index of order.slice(0, cut)) {
            mask[index] = 1;
            data[index] = 0;
          }
        }
        return { weight: layer.weight, mask: { rows, cols, data: mask } };
      },
    };
  },
};
`,
);

function sculpt(...args: string[]) {
  const result = spawnSync(process.execPath, [resolve(repoRoot, 'tools/cli/bin/sculpt.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, SCULPT_LOG_LEVEL: 'warn' },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('third-party plugin', () => {
  it('appears in plugins list', () => {
    const { code, stdout } = sculpt('--json', '--plugin', pluginFile, 'plugins', 'list', '--kind', 'pruner');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { name: string; source: string }[];
    expect(rows).toContainEqual(expect.objectContaining({ name: 'row-magnitude', source: pluginFile }));
  });

  it('prunes a real model', () => {
    const out = join(dir, 'pruned.bin');
    const { code, stdout, stderr } = sculpt(
      '--json', '--plugin', pluginFile,
      'prune', '--model', model, '--method', 'row-magnitude', '--sparsity', '0.5', '--out', out,
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { method: string; layers: { name: string; sparsity: number; inFeatures: number }[] };
    expect(report.method).toBe('row-magnitude');
    expect(report.layers.length).toBeGreaterThan(0);
    for (const layer of report.layers) {
      // Every row loses floor(cols / 2) weights; the model's widths are even.
      expect(layer.inFeatures % 2).toBe(0);
      expect(layer.sparsity).toBe(0.5);
    }
    expect(existsSync(out)).toBe(true);
    expect(statSync(out).size).toBe(statSync(model).size);
  });

  it('rejects an option the schema lacks', () => {
    const { code, stderr } = sculpt(
      '--plugin', pluginFile,
      'prune', '--model', model, '--method', 'row-magnitude', '--method-option', 'alpha=2', '--out', join(dir, 'x.bin'),
    );
    expect(code).toBe(2);
    expect(stderr).toContain('alpha');
  });
});

describe('Ctrl-C', () => {
  // Same pruner, 150 ms slower per layer, so the interrupt lands mid-run.
  const slowFile = join(dir, 'slow-row-magnitude.mjs');
  writeFileSync(
    slowFile,
    `import base from './row-magnitude.mjs';
export default {
  meta: { ...base.meta, name: 'slow-row-magnitude' },
  create(options, context) {
    const pruner = base.create(options, context);
    return {
      ...pruner,
      async pruneLayer(layer, layerContext) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        return pruner.pruneLayer(layer, layerContext);
      },
    };
  },
};
`,
  );

  it('stops between blocks with exit code 130', async () => {
    const child = spawn(
      process.execPath,
      [
        resolve(repoRoot, 'tools/cli/bin/sculpt.js'),
        '--plugin', slowFile,
        'prune', '--model', model, '--method', 'slow-row-magnitude', '--out', join(dir, 'slow.bin'),
      ],
      { cwd: repoRoot, env: { ...process.env, SCULPT_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!interrupted && stderr.includes('block 1/5 pruned')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((done) => child.on('exit', (exitCode) => done(exitCode)));

    expect(code, stderr).toBe(130);
    expect(stderr).toContain('sculpt: interrupted, stopping after the current unit of work');
    expect(stderr).toContain('sculpt: Interrupted by the user');
    expect(stderr).not.toContain('block 5/5 pruned');
    expect(existsSync(join(dir, 'slow.bin'))).toBe(false);
  });
});
