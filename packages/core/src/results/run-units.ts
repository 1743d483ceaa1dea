/**
 * Executes the pending units of a run (the cells of a grid study), recording
 * each finished unit with its metrics in one transaction. Calling it again on
 * a resumed run continues where the previous process stopped: units already
 * done are never redone.
 */
import { AbortError, throwIfAborted } from '../errors.js';
import { getLogger } from '../logger.js';
import type { ProgressReporter } from '../progress/reporter.js';
import type { MetricInput, ResultsStore, RunRecord } from './store.js';

const log = getLogger('core:results');

export interface UnitOutcome {
  result: unknown;
  metrics?: Iterable<MetricInput>;
}

export interface RunUnitsOptions {
  signal?: AbortSignal;
  /** Milliseconds between heartbeats while a unit runs (default 10000). */
  heartbeatMs?: number;
  /** Keep going after a unit throws; the run ends 'failed' with the failures listed (default false). */
  continueOnError?: boolean;
  progress?: ProgressReporter;
  /** Label of the progress task (default "units"). */
  label?: string;
  /** Called after a unit's result is committed. */
  onUnitComplete?: (key: string, outcome: UnitOutcome) => void;
}

export interface RunUnitsSummary {
  run: RunRecord;
  /** Units executed by this call, in order. */
  executed: string[];
  failed: string[];
}

export async function runUnits(
  store: ResultsStore,
  runId: number,
  work: (key: string, signal: AbortSignal | undefined) => Promise<UnitOutcome>,
  options: RunUnitsOptions = {},
): Promise<RunUnitsSummary> {
  const pending = store.pendingUnits(runId);
  const total = store.units(runId).length;
  let done = total - pending.length;
  const executed: string[] = [];
  const failed: string[] = [];
  const task = options.progress?.start({ label: options.label ?? 'units', total, unit: 'units' });
  task?.update(done);

  // Heartbeats let another process tell a slow unit from a dead owner on another host.
  const timer = setInterval(() => store.heartbeat(runId), options.heartbeatMs ?? 10_000);
  timer.unref();

  let current: string | undefined;
  try {
    for (const key of pending) {
      throwIfAborted(options.signal);
      current = key;
      store.startUnit(runId, key);
      try {
        const outcome = await work(key, options.signal);
        throwIfAborted(options.signal);
        store.completeUnit(runId, key, outcome.result, outcome.metrics ?? []);
        executed.push(key);
        options.onUnitComplete?.(key, outcome);
      } catch (error) {
        if (error instanceof AbortError) throw error;
        store.failUnit(runId, key, error);
        failed.push(key);
        log.error(`Unit "${key}" of run ${runId} failed: ${(error as Error).message}`);
        if (!options.continueOnError) throw error;
      }
      current = undefined;
      done += 1;
      task?.update(done);
    }
  } catch (error) {
    if (error instanceof AbortError) {
      if (current !== undefined) store.releaseUnit(runId, current);
      store.interruptRun(runId, error.message);
    } else {
      store.failRun(runId, error);
    }
    throw error;
  } finally {
    clearInterval(timer);
    task?.finish();
  }

  const run =
    failed.length > 0
      ? store.failRun(runId, `${failed.length} unit(s) failed: ${failed.join(', ')}`)
      : store.finishRun(runId);
  return { run, executed, failed };
}
