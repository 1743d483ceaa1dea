/**
 * `sculpt runs`: inspect the results store (runs, their units of work and
 * metrics) and mark runs whose process died as interrupted, so the command
 * that created them can resume them.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { ResultsStore, UsageError, type RunRecord } from '@sculpt/core';
import { getContext } from '../context.js';
import { formatRecord, formatTable, output } from '../output.js';

export const DEFAULT_RESULTS_DB = 'results.sqlite';

const RUN_STATUSES = ['running', 'done', 'failed', 'interrupted'] as const;

function openExisting(file: string): ResultsStore {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`Results database not found: ${path}. Pass --db with the file a study wrote (<out>/results.sqlite).`);
  return ResultsStore.open(path);
}

function runId(value: string): number {
  const id = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(id) || id <= 0) throw new UsageError(`Run id must be a positive integer, got "${value}"`);
  return id;
}

function summary(store: ResultsStore, run: RunRecord) {
  const counts = store.unitCounts(run.id);
  const total = counts.pending + counts.running + counts.done + counts.failed;
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    units: `${counts.done}/${total}`,
    failedUnits: counts.failed,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt?.toISOString() ?? null,
    pid: run.pid,
    host: run.host,
    attempts: run.attempts,
    error: run.error,
  };
}

const dbOption = () =>
  new Option('--db <file>', 'results database (SQLite); a study writes <out>/results.sqlite').default(DEFAULT_RESULTS_DB);

export function register(program: Command): void {
  const runs = program.command('runs').description('inspect recorded runs in the results database');

  runs
    .command('list')
    .description('list runs with their status and unit counts')
    .addOption(dbOption())
    .option('--kind <kind>', 'only runs of this kind (for example "pruning-study")')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .action((options, command) => {
      const context = getContext(command as unknown as Command);
      const store = openExisting(options.db);
      try {
        const rows = store.listRuns({ kind: options.kind, status: options.status }).map((run) => summary(store, run));
        output(rows, { json: context.globals.json, columns: ['id', 'kind', 'status', 'units', 'startedAt', 'endedAt', 'error'] });
      } finally {
        store.close();
      }
    });

  runs
    .command('show')
    .description('show one run: config, units and metric names')
    .argument('<id>', 'run id', runId)
    .addOption(dbOption())
    .action((id, options, command) => {
      const context = getContext(command as unknown as Command);
      const store = openExisting(options.db);
      try {
        const run = store.getRun(id);
        const units = store.units(id).map((unit) => ({ key: unit.key, status: unit.status, attempts: unit.attempts, error: unit.error }));
        const metricNames = [...new Set(store.metrics(id).map((metric) => metric.name))];
        const result = { ...summary(store, run), configHash: run.configHash, config: run.config, units, metricNames };
        const human = [
          formatRecord({ ...summary(store, run), configHash: run.configHash, metrics: metricNames.join(', ') }),
          '',
          'Config:',
          JSON.stringify(run.config, null, 2),
          '',
          'Units:',
          formatTable(units, ['key', 'status', 'attempts', 'error']),
        ].join('\n');
        output(result, { json: context.globals.json, human });
      } finally {
        store.close();
      }
    });

  runs
    .command('check')
    .description('mark runs whose process died (or whose heartbeat is stale) as interrupted')
    .addOption(dbOption())
    .option('--stale-after <seconds>', 'heartbeat age after which a running run counts as dead', (value) => {
      const seconds = Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--stale-after must be a positive number of seconds, got "${value}"`);
      return seconds;
    }, 120)
    .action((options, command) => {
      const context = getContext(command as unknown as Command);
      const store = openExisting(options.db);
      try {
        const interrupted = store.detectInterrupted({ staleAfterMs: options.staleAfter * 1000 }).map((run) => summary(store, run));
        output(
          { interrupted },
          {
            json: context.globals.json,
            human:
              interrupted.length === 0
                ? 'No interrupted runs.'
                : `Marked ${interrupted.length} run(s) as interrupted:\n${formatTable(interrupted, ['id', 'kind', 'units', 'pid', 'error'])}`,
          },
        );
      } finally {
        store.close();
      }
    });
}
