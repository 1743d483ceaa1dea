/**
 * Command modules load the heavy workspace packages only inside their
 * actions, so `sculpt --help` and light commands start without them. These tests
 * check that registering those commands resolves none of the heavy packages,
 * and that the option choices the modules repeat still match the packages.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CALIBRATION_FORMATS, CODE_SPLITS } from '@sculpt/datasets';
import { DEFAULT_POOL_SIZE, TOKENIZER_MODES } from '@sculpt/chaincoder';
import { TASK_NAMES } from '@sculpt/pruners';
import { describe, expect, it } from 'vitest';
import { CALIBRATION_FORMAT_CHOICES } from '../src/commands/calibrate.js';
import { DEFAULT_RENAME_POOL_SIZE, TOKENIZER_MODE_CHOICES } from '../src/commands/chaincoder.js';
import { BUILTIN_TASK_NAMES } from '../src/commands/eval-tasks.js';
import { CODE_SPLIT_CHOICES } from '../src/commands/chaincoder-model.js';

const cliRoot = resolve(import.meta.dirname, '..');

/** Command modules that must not import a heavy package when they are registered. */
const LAZY_MODULES = ['calibrate', 'generate', 'convert', 'eval-ppl', 'chaincoder', 'devices', 'selfcheck', 'plugins', 'runs', 'prune', 'study', 'eval-tasks', 'chaincoder-model'];

/** A module resolution hook that rejects the heavy packages, so any import of them fails. */
const BLOCKING_HOOK = `
const heavy = /^@sculpt\\/(runtime-gpu|datasets|pruners|chaincoder)(\\/|$)/;
export async function resolve(specifier, context, nextResolve) {
  if (heavy.test(specifier)) throw new Error('blocked import of ' + specifier + ' from ' + context.parentURL);
  return nextResolve(specifier, context);
}
`;

/**
 * Imports the modules in a fresh Node process with the blocking hook active,
 * registers them on one program, then checks that the hook is really active
 * by importing a heavy package itself.
 */
function registerWithHeavyPackagesBlocked(modules: string[]) {
  const urls = modules.map((name) => pathToFileURL(resolve(cliRoot, `src/commands/${name}.ts`)).href);
  const script = `
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';
register(${JSON.stringify(pathToFileURL(resolve(cliRoot, 'bin/source-condition.js')).href)});
registerTsx();
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(BLOCKING_HOOK)}));

const { Command } = await import('@commander-js/extra-typings');
const program = new Command('sculpt');
for (const url of ${JSON.stringify(urls)}) {
  const module = await import(url);
  module.register(program);
}
let hookActive = false;
try {
  await import('@sculpt/datasets');
} catch (error) {
  hookActive = String(error).includes('blocked import of @sculpt/datasets');
}
process.stdout.write(JSON.stringify({ commands: program.commands.map((command) => command.name()), hookActive }));
`;
  const result = spawnSync(process.execPath, ['--input-type=module', '--eval', script], { cwd: cliRoot, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lazy command imports', () => {
  it('registers commands without heavy packages', () => {
    const { code, stdout, stderr } = registerWithHeavyPackagesBlocked(LAZY_MODULES);
    expect(stderr).not.toContain('blocked import');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { commands: string[]; hookActive: boolean };
    expect(result.hookActive).toBe(true);
    expect(result.commands).toEqual(['calibrate', 'generate', 'convert', 'eval', 'chaincoder', 'devices', 'selfcheck', 'plugins', 'runs', 'prune', 'study']);
  });

  it('repeats the calibration formats of datasets', () => {
    expect([...CALIBRATION_FORMAT_CHOICES]).toEqual([...CALIBRATION_FORMATS]);
  });

  it('repeats the code splits of datasets', () => {
    expect([...CODE_SPLIT_CHOICES]).toEqual([...CODE_SPLITS]);
  });

  it('repeats the task names of pruners', () => {
    expect([...BUILTIN_TASK_NAMES]).toEqual([...TASK_NAMES]);
  });

  it('repeats the tokenizer modes of chaincoder', () => {
    expect([...TOKENIZER_MODE_CHOICES]).toEqual([...TOKENIZER_MODES]);
  });

  it('repeats the rename pool size of chaincoder', () => {
    expect(DEFAULT_RENAME_POOL_SIZE).toBe(DEFAULT_POOL_SIZE);
  });
});
