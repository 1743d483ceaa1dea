/**
 * The `sculpt` binary as a user runs it: `node tools/cli/bin/sculpt.js` from
 * the repository root, in a child process, checking stdout, stderr and the
 * exit code.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../..');
const bin = resolve(repoRoot, 'tools/cli/bin/sculpt.js');

function sculpt(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, SCULPT_LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('sculpt binary', () => {
  it('prints help with exit code 0', () => {
    const { code, stdout } = sculpt('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: sculpt [options] [command]');
    for (const option of ['--json', '--device <device>', '--log-level <level>', '--config <file>', '--plugin <module>', '--print-shader <names>']) {
      expect(stdout).toContain(option);
    }
    expect(stdout).toContain('plugins');
  });

  it('prints the version', () => {
    const { code, stdout } = sculpt('--version');
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints subcommand help', () => {
    const { code, stdout } = sculpt('plugins', 'list', '--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: sculpt plugins list [options]');
    expect(stdout).toContain('--kind <kind>');
  });

  it('lists plugins as one JSON document', () => {
    const { code, stdout } = sculpt('--json', 'plugins', 'list');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { kind: string; name: string; description: string; source: string }[];
    const decoders = rows.filter((row) => row.kind === 'decoder').map((row) => row.name);
    expect(decoders).toEqual(['beam', 'coarse-to-fine', 'constrained', 'greedy', 'sample']);
    for (const row of rows) {
      expect(row.name).not.toBe('');
      expect(row.description).not.toBe('');
    }
  });

  it('shows a plugin with its option schema', () => {
    const { code, stdout } = sculpt('--json', 'plugins', 'show', 'beam');
    expect(code).toBe(0);
    const details = JSON.parse(stdout) as { kind: string; version: string; options: { properties: Record<string, { default?: unknown }> } };
    expect(details.kind).toBe('decoder');
    expect(details.version).toBe('1.0.0');
    expect(details.options.properties.width.default).toBe(4);
  });

  it('exits 2 on an invalid option value', () => {
    const { code, stdout, stderr } = sculpt('plugins', 'list', '--kind', 'tokenizer');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("argument 'tokenizer' is invalid. Allowed choices are pruner, dataset, decoder, model-format, eval-task.");
  });

  it('reports usage errors as JSON with --json', () => {
    const { code, stdout } = sculpt('--json', 'plugins', 'frobnicate');
    expect(code).toBe(2);
    const document = JSON.parse(stdout) as { error: { type: string; message: string; exitCode: number } };
    expect(document.error.type).toBe('UsageError');
    expect(document.error.message).toContain("unknown command 'frobnicate'");
    expect(document.error.exitCode).toBe(2);
  });

  it('exits 2 on an unknown plugin name', () => {
    const { code, stderr } = sculpt('plugins', 'show', 'greddy', '--kind', 'decoder');
    expect(code).toBe(2);
    expect(stderr).toContain('decoder: beam, coarse-to-fine, constrained, greedy, sample');
  });
});
