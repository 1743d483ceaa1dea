/**
 * Escape attempts against the real sandbox: real python3 processes under
 * real namespaces and resource limits. Each isolation layer available here
 * runs the whole suite; under CI both layers must be available.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonSandbox } from '../../src/sandbox/index.js';
import type { IsolationKind } from '../../src/sandbox/index.js';

const isRoot = process.getuid?.() === 0;
const hasBwrap = existsSync('/usr/bin/bwrap');
const inCi = process.env.CI !== undefined && process.env.CI !== '';
const CONCURRENCY = 2;

/** Processes whose real uid is one of the sandbox's slot uids. */
async function sandboxProcesses(sandbox: PythonSandbox): Promise<number[]> {
  const range = sandbox.uidRange;
  // Without root the runs keep the caller's uid; the PID namespace check then rests on the other assertions.
  if (range === undefined) return [];
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/u.test(entry)) continue;
    let status: string;
    try {
      status = await readFile(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue; // the process exited while we looked
    }
    const uid = Number(/^Uid:\s+(\d+)/mu.exec(status)?.[1]);
    if (uid >= range[0] && uid <= range[1]) found.push(Number(entry));
  }
  return found;
}

async function waitForNoSandboxProcesses(sandbox: PythonSandbox): Promise<number[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const left = await sandboxProcesses(sandbox);
    if (left.length === 0) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return sandboxProcesses(sandbox);
}

function describeIsolation(kind: IsolationKind, available: boolean): void {
  describe.runIf(available || inCi)(`sandbox containment (${kind})`, () => {
    let sandbox: PythonSandbox;

    beforeAll(async () => {
      sandbox = await PythonSandbox.create({ isolation: kind, concurrency: CONCURRENCY });
      if (isRoot) expect(sandbox.uidRange).toBeDefined();
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('feeds stdin and captures stdout', async () => {
      const result = await sandbox.run({ program: 'import sys\nprint(sum(map(int, sys.stdin.read().split())))\n', stdin: '2 3\n4\n' });
      expect(result.status).toBe('exited');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('9\n');
    });

    it('stops an infinite loop at the timeout', async () => {
      const result = await sandbox.run({ program: 'while True:\n    pass\n', limits: { timeoutMs: 1000 } });
      expect(result.status).toBe('timeout');
      expect(result.durationMs).toBeLessThan(3000);
      expect(await waitForNoSandboxProcesses(sandbox)).toEqual([]);
    });

    it('contains a fork bomb', async () => {
      const program = ['import os', 'while True:', '    try:', '        os.fork()', '    except OSError:', '        pass', ''].join('\n');
      const result = await sandbox.run({ program, limits: { timeoutMs: 2000 } });
      expect(result.status).toBe('timeout');
      expect(result.durationMs).toBeLessThan(6000);
      expect(await waitForNoSandboxProcesses(sandbox)).toEqual([]);
    });

    it('caps process count below the fork bomb', async () => {
      const program = [
        'import os, time',
        'children = 0',
        'try:',
        '    for _ in range(200):',
        '        if os.fork() == 0:',
        '            time.sleep(5)',
        '            os._exit(0)',
        '        children += 1',
        'except OSError as error:',
        '    print("fork failed after", children, type(error).__name__)',
        '',
      ].join('\n');
      const result = await sandbox.run({ program, limits: { timeoutMs: 3000, maxProcesses: 16 } });
      expect(result.stdout).toMatch(/fork failed after (\d+) BlockingIOError/u);
      const children = Number(/after (\d+)/u.exec(result.stdout)?.[1]);
      expect(children).toBeLessThan(16);
      expect(await waitForNoSandboxProcesses(sandbox)).toEqual([]);
    });

    it('contains a memory bomb', async () => {
      const program = 'chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024 * 1024))\n';
      const result = await sandbox.run({ program, limits: { memoryBytes: 512 * 1024 * 1024 } });
      expect(result.status).toBe('exited');
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain('MemoryError');
    });

    it('kills children that leave the process group', async () => {
      const program = [
        'import subprocess',
        'subprocess.Popen(["sleep", "30"], start_new_session=True)',
        'print("spawned")',
        '',
      ].join('\n');
      const result = await sandbox.run({ program });
      expect(result.stdout).toBe('spawned\n');
      expect(await waitForNoSandboxProcesses(sandbox)).toEqual([]);
    });

    it('blocks network connections to the host', async () => {
      let connections = 0;
      const server: Server = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('test server has no TCP address');
      try {
        const program = [
          'import socket',
          'try:',
          `    socket.create_connection(("127.0.0.1", ${address.port}), timeout=2).close()`,
          '    print("connected")',
          'except OSError as error:',
          '    print("blocked", type(error).__name__)',
          '',
        ].join('\n');
        const result = await sandbox.run({ program });
        expect(result.stdout).toMatch(/^blocked /u);
        expect(connections).toBe(0);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('keeps writes inside its directory', async () => {
      const outside = await mkdtemp(join(tmpdir(), 'sculpt-outside-'));
      await chmod(outside, 0o777);
      try {
        const target = join(outside, 'escaped.txt');
        const program = [
          'import os',
          'results = []',
          `for path in [${JSON.stringify(target)}, "../escaped.txt", "/escaped.txt", "/var/tmp/escaped.txt"]:`,
          '    try:',
          '        with open(path, "w") as handle:',
          '            handle.write("x")',
          '        results.append("wrote")',
          '    except OSError:',
          '        results.append("denied")',
          'with open("inside.txt", "w") as handle:',
          '    handle.write("ok")',
          'print(open("inside.txt").read())',
          '',
        ].join('\n');
        const result = await sandbox.run({ program });
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toBe('ok\n');
        expect(existsSync(target)).toBe(false);
        expect(existsSync('/escaped.txt')).toBe(false);
        expect(existsSync('/var/tmp/escaped.txt')).toBe(false);
      } finally {
        await rm(outside, { recursive: true, force: true });
        // Remove this test's marker files should an escape have written them, so later runs start clean.
        await rm('/escaped.txt', { force: true });
        await rm('/var/tmp/escaped.txt', { force: true });
      }
    });

    it('hides the home directory and environment', async () => {
      const home = await mkdtemp(join(tmpdir(), 'sculpt-home-'));
      const secretPath = join(home, 'secret.txt');
      await writeFile(secretPath, 'top-secret-value');
      const savedHome = process.env.HOME;
      process.env.HOME = home;
      process.env.SCULPT_TEST_SECRET = 'secret-environment-value';
      try {
        const program = [
          'import json, os',
          'try:',
          `    content = open(${JSON.stringify(secretPath)}).read()`,
          'except OSError as error:',
          '    content = type(error).__name__',
          'print(json.dumps({"content": content, "home": os.path.expanduser("~"), "env": dict(os.environ)}))',
          '',
        ].join('\n');
        const result = await sandbox.run({ program });
        expect(result.exitCode).toBe(0);
        const report = JSON.parse(result.stdout) as { content: string; home: string; env: Record<string, string> };
        expect(report.content).not.toContain('top-secret-value');
        expect(report.home).toBe('/tmp/sandbox');
        expect(report.env.SCULPT_TEST_SECRET).toBeUndefined();
        expect(result.stdout).not.toContain('secret-environment-value');
      } finally {
        if (savedHome === undefined) delete process.env.HOME;
        else process.env.HOME = savedHome;
        delete process.env.SCULPT_TEST_SECRET;
        await rm(home, { recursive: true, force: true });
      }
    });

    it('limits the size of written files', async () => {
      const program = 'with open("big.bin", "wb") as handle:\n    handle.write(b"x" * (8 * 1024 * 1024))\nprint("done")\n';
      const result = await sandbox.run({ program, limits: { fileSizeBytes: 1024 * 1024 } });
      expect(result.stdout).not.toContain('done');
      expect(result.exitCode === 0).toBe(false);
    });

    it('stops runaway output', async () => {
      const result = await sandbox.run({ program: 'while True:\n    print("y" * 1000)\n', limits: { maxOutputBytes: 64 * 1024 } });
      expect(result.status).toBe('output-limit');
      expect(result.stdout.length).toBe(64 * 1024);
    });
  });
}

describeIsolation('unshare', isRoot);
describeIsolation('bwrap', hasBwrap);

describe('sandbox creation', () => {
  it('rejects a missing interpreter', async () => {
    await expect(PythonSandbox.create({ python: '/nonexistent/python3' })).rejects.toThrow(/\/nonexistent\/python3 was not found/u);
  });

  it('rejects a non-positive limit', async () => {
    await expect(PythonSandbox.create({ limits: { timeoutMs: 0 } })).rejects.toThrow(/timeoutMs must be a positive/u);
  });
});
