/**
 * The results store: one SQLite file (better-sqlite3, WAL mode) holding runs,
 * their metrics and their units of work.
 *
 * Every write that belongs together is one transaction. In particular a unit
 * is completed together with its metrics, so a crash (even SIGKILL in the
 * middle of the write) leaves either the whole unit or none of it, and a
 * resumed run redoes only units that never completed.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { configHash, stableStringify } from '../config/config.js';
import { InputError, UsageError } from '../errors.js';
import { getLogger } from '../logger.js';
import { hostName, isProcessAlive } from './liveness.js';
import { migrate } from './schema.js';

const log = getLogger('core:results');

// better-sqlite3 is a native addon; loading it on first open keeps `import '@sculpt/core'` cheap
// for programs that never touch the store.
let sqlite: typeof Database | undefined;
function loadSqlite(): typeof Database {
  sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return sqlite;
}

export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted';
export type UnitStatus = 'pending' | 'running' | 'done' | 'failed';

export interface RunRecord {
  id: number;
  kind: string;
  config: unknown;
  configHash: string;
  status: RunStatus;
  startedAt: Date;
  endedAt: Date | null;
  heartbeatAt: Date;
  pid: number;
  host: string;
  /** 1 for a fresh run, +1 for each resume. */
  attempts: number;
  error: string | null;
}

export interface UnitRecord {
  key: string;
  position: number;
  status: UnitStatus;
  result: unknown;
  error: string | null;
  attempts: number;
}

export interface MetricInput {
  name: string;
  value: number;
  step?: number;
  tags?: Record<string, string | number | boolean>;
}

export interface MetricRecord extends Required<Omit<MetricInput, 'step'>> {
  step: number | null;
  unitKey: string | null;
  recordedAt: Date;
}

interface RunRow {
  id: number;
  kind: string;
  config: string;
  config_hash: string;
  status: RunStatus;
  started_at: number;
  ended_at: number | null;
  heartbeat_at: number;
  pid: number;
  host: string;
  attempts: number;
  error: string | null;
}

interface UnitRow {
  key: string;
  position: number;
  status: UnitStatus;
  result: string | null;
  error: string | null;
  attempts: number;
}

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    kind: row.kind,
    config: JSON.parse(row.config),
    configHash: row.config_hash,
    status: row.status,
    startedAt: new Date(row.started_at),
    endedAt: row.ended_at === null ? null : new Date(row.ended_at),
    heartbeatAt: new Date(row.heartbeat_at),
    pid: row.pid,
    host: row.host,
    attempts: row.attempts,
    error: row.error,
  };
}

function toUnit(row: UnitRow): UnitRecord {
  return {
    key: row.key,
    position: row.position,
    status: row.status,
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error,
    attempts: row.attempts,
  };
}

function checkMetric(metric: MetricInput, where: string): void {
  if (typeof metric.name !== 'string' || metric.name === '') throw new UsageError(`${where}: metric name must be a non-empty string`);
  if (typeof metric.value !== 'number' || Number.isNaN(metric.value)) {
    throw new UsageError(`${where}: metric "${metric.name}" has value ${String(metric.value)}, expected a number`);
  }
}

export interface OpenOptions {
  readonly?: boolean;
  /** Milliseconds a writer waits for another process's lock before failing (default 5000). */
  busyTimeoutMs?: number;
}

export interface InterruptedOptions {
  /** A running run whose heartbeat is older than this counts as interrupted even if its pid exists (default 120000). */
  staleAfterMs?: number;
  now?: number;
}

export class ResultsStore {
  readonly file: string;
  readonly db: Database.Database;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  /** Opens (creating if needed) a results database and brings its schema up to date. */
  static open(file: string, options: OpenOptions = {}): ResultsStore {
    const path = resolve(file);
    if (!options.readonly) mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      const Sqlite = loadSqlite();
      db = new Sqlite(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    } catch (error) {
      throw new InputError(`cannot open the results database: ${(error as Error).message}`, path, { cause: error });
    }
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('foreign_keys = ON');
    if (!options.readonly) {
      // WAL lets readers (a report command) work while a study writes. With WAL,
      // synchronous=NORMAL loses no committed transaction when a process dies;
      // only an OS crash or power loss can drop the last ones.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, path);
    }
    return new ResultsStore(path, db);
  }

  close(): void {
    this.db.close();
  }

  /** Runs `integrity_check` and returns its messages (['ok'] for a sound file). */
  integrityCheck(): string[] {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((row) => row.integrity_check);
  }

  // ---- runs ----

  /** Starts a run owned by this process. `units` (optional) are planned in the same transaction. */
  createRun(kind: string, config: unknown, units: readonly string[] = []): RunRecord {
    const now = Date.now();
    const create = this.db.transaction(() => {
      const info = this.db
        .prepare(
          `INSERT INTO runs (kind, config, config_hash, status, started_at, heartbeat_at, pid, host)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
        )
        .run(kind, stableStringify(config), configHash(config), now, now, process.pid, hostName());
      const id = Number(info.lastInsertRowid);
      this.insertUnits(id, units);
      return id;
    });
    const id = create();
    log.debug(() => `Created ${kind} run ${id} with ${units.length} units`);
    return this.getRun(id);
  }

  getRun(id: number): RunRecord {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new UsageError(`No run with id ${id} in ${this.file}. List runs to see the ids it contains.`);
    return toRun(row);
  }

  listRuns(filter: { kind?: string; status?: RunStatus } = {}): RunRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM runs WHERE (@kind IS NULL OR kind = @kind) AND (@status IS NULL OR status = @status) ORDER BY id`,
      )
      .all({ kind: filter.kind ?? null, status: filter.status ?? null }) as RunRow[];
    return rows.map(toRun);
  }

  /** Records that the owning process is alive. */
  heartbeat(runId: number, at: number = Date.now()): void {
    this.db.prepare(`UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'`).run(at, runId);
  }

  finishRun(runId: number): RunRecord {
    this.db.prepare(`UPDATE runs SET status = 'done', ended_at = ?, error = NULL WHERE id = ?`).run(Date.now(), runId);
    return this.getRun(runId);
  }

  failRun(runId: number, error: unknown): RunRecord {
    const message = error instanceof Error ? error.message : String(error);
    this.db.prepare(`UPDATE runs SET status = 'failed', ended_at = ?, error = ? WHERE id = ?`).run(Date.now(), message, runId);
    return this.getRun(runId);
  }

  /**
   * Marks a run interrupted (the owner stopped it on purpose, for example on
   * Ctrl-C) and returns its in-flight units to pending.
   */
  interruptRun(runId: number, reason: string): RunRecord {
    this.db.transaction(() => {
      this.db.prepare(`UPDATE runs SET status = 'interrupted', ended_at = ?, error = ? WHERE id = ?`).run(Date.now(), reason, runId);
      this.db.prepare(`UPDATE units SET status = 'pending' WHERE run_id = ? AND status = 'running'`).run(runId);
    })();
    return this.getRun(runId);
  }

  /** Returns true when a run has status 'running' but its process is gone (same host) or its heartbeat is stale. */
  isAbandoned(run: RunRecord, options: InterruptedOptions = {}): boolean {
    if (run.status !== 'running') return false;
    const now = options.now ?? Date.now();
    const stale = now - run.heartbeatAt.getTime() > (options.staleAfterMs ?? 120_000);
    const dead = run.host === hostName() && !isProcessAlive(run.pid);
    return stale || dead;
  }

  /**
   * Finds runs whose process died without finishing them, marks them
   * 'interrupted' and returns them. The check and the update are one
   * transaction, so two processes cannot both claim the same run.
   */
  detectInterrupted(options: InterruptedOptions = {}): RunRecord[] {
    const found: number[] = [];
    this.db.transaction(() => {
      for (const run of this.listRuns({ status: 'running' })) {
        if (!this.isAbandoned(run, options)) continue;
        const reason = run.host === hostName() && !isProcessAlive(run.pid) ? `process ${run.pid} exited` : 'heartbeat is stale';
        this.db.prepare(`UPDATE runs SET status = 'interrupted', error = ? WHERE id = ?`).run(`interrupted: ${reason}`, run.id);
        this.db.prepare(`UPDATE units SET status = 'pending' WHERE run_id = ? AND status = 'running'`).run(run.id);
        found.push(run.id);
      }
    }).immediate();
    for (const id of found) log.warn(`Run ${id} was interrupted (its process died); resume it to finish the remaining units`);
    return found.map((id) => this.getRun(id));
  }

  /** Detects dead owners, then returns the newest interrupted or failed run of this kind and config. */
  findResumable(kind: string, config: unknown, options: InterruptedOptions = {}): RunRecord | undefined {
    this.detectInterrupted(options);
    const row = this.db
      .prepare(`SELECT * FROM runs WHERE kind = ? AND config_hash = ? AND status IN ('interrupted', 'failed') ORDER BY id DESC LIMIT 1`)
      .get(kind, configHash(config)) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  /**
   * Takes over an interrupted or failed run in this process: status back to
   * running, owner pid and host updated, and every unit that is not done
   * (including failed ones) pending again. Done units are kept as they are.
   */
  resumeRun(runId: number, options: InterruptedOptions = {}): RunRecord {
    this.detectInterrupted(options);
    this.db.transaction(() => {
      const run = this.getRun(runId);
      if (run.status === 'running') {
        throw new UsageError(`Run ${runId} is still running (process ${run.pid} on ${run.host}); it cannot be resumed twice`);
      }
      if (run.status === 'done') throw new UsageError(`Run ${runId} already finished; there is nothing to resume`);
      const now = Date.now();
      this.db
        .prepare(
          `UPDATE runs SET status = 'running', pid = ?, host = ?, heartbeat_at = ?, ended_at = NULL, error = NULL, attempts = attempts + 1 WHERE id = ?`,
        )
        .run(process.pid, hostName(), now, runId);
      this.db.prepare(`UPDATE units SET status = 'pending', error = NULL WHERE run_id = ? AND status != 'done'`).run(runId);
    }).immediate();
    log.info(`Resuming run ${runId}`);
    return this.getRun(runId);
  }

  // ---- units ----

  private insertUnits(runId: number, keys: readonly string[]): void {
    const next = (this.db.prepare('SELECT COALESCE(MAX(position) + 1, 0) AS next FROM units WHERE run_id = ?').get(runId) as { next: number }).next;
    const insert = this.db.prepare(`INSERT OR IGNORE INTO units (run_id, key, position, status) VALUES (?, ?, ?, 'pending')`);
    keys.forEach((key, i) => insert.run(runId, key, next + i));
  }

  /** Adds units to a run; keys it already has are left unchanged. */
  planUnits(runId: number, keys: readonly string[]): void {
    const duplicates = keys.filter((key, i) => keys.indexOf(key) !== i);
    if (duplicates.length > 0) throw new UsageError(`Duplicate unit keys: ${[...new Set(duplicates)].join(', ')}`);
    this.db.transaction(() => this.insertUnits(runId, keys))();
  }

  units(runId: number, status?: UnitStatus): UnitRecord[] {
    const rows = this.db
      .prepare(`SELECT * FROM units WHERE run_id = ? AND (? IS NULL OR status = ?) ORDER BY position`)
      .all(runId, status ?? null, status ?? null) as UnitRow[];
    return rows.map(toUnit);
  }

  /** Number of units per status (statuses without units are 0). */
  unitCounts(runId: number): Record<UnitStatus, number> {
    const counts: Record<UnitStatus, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    const rows = this.db.prepare('SELECT status, COUNT(*) AS count FROM units WHERE run_id = ? GROUP BY status').all(runId) as {
      status: UnitStatus;
      count: number;
    }[];
    for (const row of rows) counts[row.status] = row.count;
    return counts;
  }

  /** Keys still to do, in planned order. */
  pendingUnits(runId: number): string[] {
    return this.units(runId, 'pending').map((unit) => unit.key);
  }

  startUnit(runId: number, key: string): void {
    const info = this.db
      .prepare(`UPDATE units SET status = 'running', attempts = attempts + 1, started_at = ?, error = NULL WHERE run_id = ? AND key = ? AND status = 'pending'`)
      .run(Date.now(), runId, key);
    if (info.changes !== 1) throw new UsageError(`Unit "${key}" of run ${runId} is not pending; it cannot be started`);
  }

  /**
   * Completes a unit with its result and metrics in one transaction. Metrics
   * may be any iterable; it is consumed inside the transaction.
   */
  completeUnit(runId: number, key: string, result: unknown, metrics: Iterable<MetricInput> = []): void {
    const now = Date.now();
    const insertMetric = this.db.prepare(
      `INSERT INTO metrics (run_id, unit_key, name, value, step, tags, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      const info = this.db
        .prepare(`UPDATE units SET status = 'done', result = ?, ended_at = ?, error = NULL WHERE run_id = ? AND key = ? AND status = 'running'`)
        .run(JSON.stringify(result ?? null), now, runId, key);
      if (info.changes !== 1) throw new UsageError(`Unit "${key}" of run ${runId} is not running; start it before completing it`);
      for (const metric of metrics) {
        checkMetric(metric, `unit "${key}"`);
        insertMetric.run(runId, key, metric.name, metric.value, metric.step ?? null, JSON.stringify(metric.tags ?? {}), now);
      }
      this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(now, runId);
    })();
  }

  failUnit(runId: number, key: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.db
      .prepare(`UPDATE units SET status = 'failed', error = ?, ended_at = ? WHERE run_id = ? AND key = ?`)
      .run(message, Date.now(), runId, key);
  }

  /** Puts a started unit back to pending (its work was cancelled). */
  releaseUnit(runId: number, key: string): void {
    this.db.prepare(`UPDATE units SET status = 'pending' WHERE run_id = ? AND key = ? AND status = 'running'`).run(runId, key);
  }

  // ---- metrics ----

  /** Records run-level metrics (not tied to a unit) in one transaction. */
  addMetrics(runId: number, metrics: Iterable<MetricInput>): void {
    const now = Date.now();
    const insert = this.db.prepare(
      `INSERT INTO metrics (run_id, unit_key, name, value, step, tags, recorded_at) VALUES (?, NULL, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const metric of metrics) {
        checkMetric(metric, `run ${runId}`);
        insert.run(runId, metric.name, metric.value, metric.step ?? null, JSON.stringify(metric.tags ?? {}), now);
      }
    })();
  }

  metrics(runId: number, filter: { name?: string; unitKey?: string } = {}): MetricRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM metrics WHERE run_id = @run AND (@name IS NULL OR name = @name) AND (@unit IS NULL OR unit_key = @unit) ORDER BY id`,
      )
      .all({ run: runId, name: filter.name ?? null, unit: filter.unitKey ?? null }) as {
      name: string;
      value: number;
      step: number | null;
      tags: string;
      unit_key: string | null;
      recorded_at: number;
    }[];
    return rows.map((row) => ({
      name: row.name,
      value: row.value,
      step: row.step,
      tags: JSON.parse(row.tags) as Record<string, string | number | boolean>,
      unitKey: row.unit_key,
      recordedAt: new Date(row.recorded_at),
    }));
  }
}
