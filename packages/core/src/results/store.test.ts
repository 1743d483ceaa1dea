import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortError, UsageError } from '../errors.js';
import { runUnits } from './run-units.js';
import { ResultsStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'sculpt-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function freshStore(): ResultsStore {
  counter += 1;
  return ResultsStore.open(join(dir, `store-${counter}.sqlite`));
}

describe('ResultsStore', () => {
  it('opens in WAL mode with a sound file', () => {
    const store = freshStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.integrityCheck()).toEqual(['ok']);
    store.close();
  });

  it('records a run with units and metrics', () => {
    const store = freshStore();
    const run = store.createRun('prune', { method: 'wanda', sparsity: 0.5 }, ['a', 'b']);
    expect(run).toMatchObject({ kind: 'prune', status: 'running', pid: process.pid, attempts: 1 });
    expect(store.pendingUnits(run.id)).toEqual(['a', 'b']);

    store.startUnit(run.id, 'a');
    store.completeUnit(run.id, 'a', { perplexity: 12.5 }, [{ name: 'ppl', value: 12.5, tags: { dataset: 'wikitext' } }]);
    store.addMetrics(run.id, [{ name: 'seconds', value: 3, step: 1 }]);

    expect(store.units(run.id).map((u) => [u.key, u.status, u.result])).toEqual([
      ['a', 'done', { perplexity: 12.5 }],
      ['b', 'pending', null],
    ]);
    expect(store.metrics(run.id, { name: 'ppl' })).toEqual([
      expect.objectContaining({ name: 'ppl', value: 12.5, unitKey: 'a', tags: { dataset: 'wikitext' }, step: null }),
    ]);
    expect(store.metrics(run.id, { name: 'seconds' })[0]).toMatchObject({ unitKey: null, step: 1 });
    expect(store.finishRun(run.id).status).toBe('done');
    store.close();
  });

  it('rolls back a unit whose metrics are invalid', () => {
    const store = freshStore();
    const run = store.createRun('grid', {}, ['a']);
    store.startUnit(run.id, 'a');
    expect(() => store.completeUnit(run.id, 'a', 1, [{ name: 'ok', value: 1 }, { name: 'bad', value: Number.NaN }])).toThrow(
      'unit "a": metric "bad" has value NaN, expected a number',
    );
    expect(store.units(run.id)[0].status).toBe('running');
    expect(store.metrics(run.id)).toEqual([]);
    store.close();
  });

  it('treats a stale heartbeat as interrupted', () => {
    const store = freshStore();
    const run = store.createRun('grid', {}, ['a']);
    store.startUnit(run.id, 'a');
    const now = Date.now();
    store.heartbeat(run.id, now - 10_000);
    // Our own pid is alive, so only the heartbeat can mark the run.
    expect(store.detectInterrupted({ staleAfterMs: 60_000, now })).toEqual([]);
    const found = store.detectInterrupted({ staleAfterMs: 5_000, now });
    expect(found.map((r) => [r.id, r.status, r.error])).toEqual([[run.id, 'interrupted', 'interrupted: heartbeat is stale']]);
    expect(store.units(run.id)[0].status).toBe('pending');
    store.close();
  });

  it('refuses to resume done or live runs', () => {
    const store = freshStore();
    const live = store.createRun('grid', {}, []);
    expect(() => store.resumeRun(live.id)).toThrow(UsageError);
    store.finishRun(live.id);
    expect(() => store.resumeRun(live.id)).toThrow('already finished');
    expect(() => store.getRun(999)).toThrow('No run with id 999');
    store.close();
  });

  it('matches resumable runs by config hash', () => {
    const store = freshStore();
    const run = store.createRun('grid', { b: 2, a: 1 }, ['x']);
    store.interruptRun(run.id, 'stopped');
    expect(store.findResumable('grid', { a: 1, b: 2 })?.id).toBe(run.id);
    expect(store.findResumable('grid', { a: 1, b: 3 })).toBeUndefined();
    store.close();
  });

  it('interrupts on abort and resumes the rest', async () => {
    const store = freshStore();
    const run = store.createRun('grid', {}, ['a', 'b', 'c']);
    const controller = new AbortController();
    const first = runUnits(store, run.id, async (key) => {
      if (key === 'b') controller.abort();
      return { result: key };
    }, { signal: controller.signal });
    await expect(first).rejects.toBeInstanceOf(AbortError);
    expect(store.getRun(run.id).status).toBe('interrupted');
    expect(store.pendingUnits(run.id)).toEqual(['b', 'c']);

    store.resumeRun(run.id);
    const summary = await runUnits(store, run.id, async (key) => ({ result: key }));
    expect(summary.executed).toEqual(['b', 'c']);
    expect(summary.run).toMatchObject({ status: 'done', attempts: 2 });
    store.close();
  });

  it('fails the run when a unit throws', async () => {
    const store = freshStore();
    const run = store.createRun('grid', {}, ['a', 'b']);
    const summary = await runUnits(store, run.id, async (key) => {
      if (key === 'a') throw new Error('out of memory');
      return { result: key };
    }, { continueOnError: true });
    expect(summary.failed).toEqual(['a']);
    expect(summary.run.status).toBe('failed');
    expect(summary.run.error).toBe('1 unit(s) failed: a');
    expect(store.units(run.id).map((u) => [u.key, u.status, u.error])).toEqual([
      ['a', 'failed', 'out of memory'],
      ['b', 'done', null],
    ]);
    store.close();
  });

  it('rejects a database from a newer schema', () => {
    const file = join(dir, 'future.sqlite');
    const store = ResultsStore.open(file);
    store.db.pragma('user_version = 99');
    store.close();
    expect(() => ResultsStore.open(file)).toThrow('schema version 99, newer than this sculpt supports');
  });
});

const fixture = resolve(import.meta.dirname, '../../test/fixtures/results-writer.ts');
const UNITS = 12;
const KILL_AT = 5;
const METRICS_PER_UNIT = 300;

/** Spawns the writer child and returns its stdout lines as they arrive. */
function spawnWriter(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const reader = createInterface({ input: child.stdout });
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  reader.on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => line.startsWith(w.prefix))) waiter.resolve(line);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  const waitFor = (prefix: string) =>
    new Promise<string>((done, fail) => {
      waiters.push({ prefix, resolve: done });
      void exited.then(() => fail(new Error(`writer exited before printing "${prefix}"; stderr:\n${stderr}`)));
    });
  return { child, lines, exited, waitFor, stderr: () => stderr };
}

describe('results store crash', () => {
  it('survives SIGKILL mid-write and resumes only the rest', async () => {
    const file = join(dir, 'crash.sqlite');

    // 1. A real process writes units until it is killed inside a unit's transaction.
    const writer = spawnWriter(['start', file, String(UNITS), String(KILL_AT)]);
    const midWrite = await writer.waitFor('mid-write');
    expect(midWrite).toBe('mid-write u005');
    writer.child.kill('SIGKILL');
    expect(await writer.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const firstPid = writer.child.pid;
    expect(writer.lines.filter((line) => line.startsWith('done'))).toEqual(['done u000', 'done u001', 'done u002', 'done u003', 'done u004']);

    // 2. The file is consistent: committed units are whole, the killed one left nothing.
    const store = ResultsStore.open(file);
    expect(store.integrityCheck()).toEqual(['ok']);
    const [run] = store.listRuns();
    expect(run).toMatchObject({ status: 'running', pid: firstPid });
    const units = store.units(run.id);
    expect(units.filter((u) => u.status === 'done').map((u) => u.key)).toEqual(['u000', 'u001', 'u002', 'u003', 'u004']);
    expect(units[KILL_AT]).toMatchObject({ key: 'u005', status: 'running', result: null });
    expect(store.metrics(run.id, { unitKey: 'u005' })).toEqual([]);
    for (const unit of units.slice(0, KILL_AT)) {
      expect(store.metrics(run.id, { unitKey: unit.key })).toHaveLength(METRICS_PER_UNIT);
      expect(unit.result).toMatchObject({ key: unit.key, pid: firstPid });
    }
    expect(store.metrics(run.id)).toHaveLength(KILL_AT * METRICS_PER_UNIT);

    // 3. The dead owner is detected.
    expect(store.isAbandoned(run)).toBe(true);
    const interrupted = store.detectInterrupted();
    expect(interrupted.map((r) => [r.id, r.status])).toEqual([[run.id, 'interrupted']]);
    expect(interrupted[0].error).toBe(`interrupted: process ${firstPid} exited`);
    store.close();

    // 4. A second process resumes and runs only the units that never completed.
    const resumer = spawnWriter(['resume', file, String(UNITS)]);
    const exit = await resumer.exited;
    expect(exit, resumer.stderr()).toEqual({ code: 0, signal: null });
    const expected = Array.from({ length: UNITS - KILL_AT }, (_, i) => `ran u${String(i + KILL_AT).padStart(3, '0')}`);
    expect(resumer.lines.filter((line) => line.startsWith('ran'))).toEqual(expected);
    expect(resumer.lines).toContain('status done');

    const after = ResultsStore.open(file);
    expect(after.integrityCheck()).toEqual(['ok']);
    const finished = after.getRun(run.id);
    expect(finished).toMatchObject({ status: 'done', attempts: 2, pid: resumer.child.pid });
    const allUnits = after.units(run.id);
    expect(allUnits.every((u) => u.status === 'done')).toBe(true);
    expect(allUnits.slice(0, KILL_AT).every((u) => (u.result as { pid: number }).pid === firstPid)).toBe(true);
    expect(allUnits.slice(KILL_AT).every((u) => (u.result as { pid: number }).pid === resumer.child.pid)).toBe(true);
    expect(allUnits[KILL_AT].attempts).toBe(2);
    expect(after.metrics(run.id)).toHaveLength(UNITS * METRICS_PER_UNIT);
    after.close();
  });
});
