/**
 * Table layout of the results store. `PRAGMA user_version` records the
 * schema version; each migration runs once, in its own transaction.
 *
 * Times are integer milliseconds since the Unix epoch. JSON columns hold
 * text written by JSON.stringify.
 */
import type Database from 'better-sqlite3';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    heartbeat_at INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    error TEXT
  );
  CREATE INDEX runs_by_config ON runs (kind, config_hash);
  CREATE INDEX runs_by_status ON runs (status);

  CREATE TABLE units (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    result TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER,
    ended_at INTEGER,
    PRIMARY KEY (run_id, key)
  );
  CREATE INDEX units_by_status ON units (run_id, status, position);

  CREATE TABLE metrics (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    unit_key TEXT,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    step INTEGER,
    tags TEXT NOT NULL DEFAULT '{}',
    recorded_at INTEGER NOT NULL
  );
  CREATE INDEX metrics_by_run ON metrics (run_id, name);
  CREATE INDEX metrics_by_unit ON metrics (run_id, unit_key);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database up to SCHEMA_VERSION; rejects a database written by a newer sculpt. */
export function migrate(db: Database.Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `${file}: results database has schema version ${current}, newer than this sculpt supports (${SCHEMA_VERSION}). Upgrade sculpt or use another database file.`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
