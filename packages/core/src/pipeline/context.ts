/** Step context: the run's settings plus the means to report progress, log and stop. */
import { throwIfAborted } from '../errors.js';
import { getLogger, type Logger, type LogLevel, type LogMessage } from '../logger.js';
import { Random } from '../random.js';
import type { PipelineListener } from './events.js';

/** Settings shared by all steps of one run. */
export interface RunContext {
  /** The resolved, JSON-serializable run config. */
  config: Record<string, unknown>;
  seed: number;
  /** Device name the run uses ('cpu', 'webgpu'). */
  device: string;
  /** Directory for step outputs and the run manifest. */
  outputDir?: string;
}

/** Derives the seed of a named random stream from the run seed (FNV-1a of the name mixed with the seed). */
export function streamSeed(seed: number, stream: string): number {
  let hash = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < stream.length; i++) {
    hash ^= stream.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export interface StepContext {
  readonly run: RunContext;
  readonly signal: AbortSignal;
  /** This step's name (a path inside nested pipelines). */
  readonly step: string;
  /** Logs through the core logger and emits a `log` event. */
  readonly log: Logger;
  /**
   * Reports `done` of `total` units and then stops the step with AbortError
   * if the run was aborted, so calling it after every unit of work makes the
   * step stop between units.
   */
  progress(done: number, total: number, unit?: string): void;
  /** Throws AbortError if the run was aborted. */
  throwIfAborted(): void;
  /** A generator for a named stream: the same run seed and name always give the same numbers. */
  random(stream: string): Random;
}

/** Creates a Logger that also turns every record into a `log` event. */
function eventLogger(scope: string, step: string, emit: PipelineListener): Logger {
  const base = getLogger(scope);
  const make = (level: Exclude<LogLevel, 'silent'>) => (message: LogMessage, fields?: Record<string, unknown>) => {
    base[level](message, fields);
    // Listeners get info and above whatever the log level, but debug and trace
    // only when enabled, so lazy debug messages stay unevaluated.
    if ((level === 'debug' || level === 'trace') && !base.enabled(level)) return;
    const text = typeof message === 'function' ? message() : message;
    emit({ type: 'log', step, level, message: text, ...(fields ? { fields } : {}) });
  };
  return {
    scope,
    error: make('error'),
    warn: make('warn'),
    info: make('info'),
    debug: make('debug'),
    trace: make('trace'),
    enabled: (level) => base.enabled(level),
    child: (sub) => eventLogger(`${scope}:${sub}`, step, emit),
  };
}

export function createStepContext(run: RunContext, signal: AbortSignal, step: string, emit: PipelineListener): StepContext {
  return {
    run,
    signal,
    step,
    log: eventLogger(`pipeline:${step}`, step, emit),
    progress(done, total, unit) {
      emit({ type: 'progress', step, done, total, ...(unit !== undefined ? { unit } : {}) });
      throwIfAborted(signal);
    },
    throwIfAborted: () => throwIfAborted(signal),
    random: (stream) => new Random(streamSeed(run.seed, stream)),
  };
}
