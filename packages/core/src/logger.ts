/**
 * The one leveled logger of sculpt. Every package logs through `getLogger(scope)`.
 *
 * Messages may be strings or functions that build the string; a function is
 * only called when its level is enabled, so callers on warm paths pay nothing
 * for disabled debug output. Nothing should log inside a hot loop.
 */

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

const LEVEL_RANK: Record<LogLevel, number> = {
  silent: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  trace: 5,
};

export const LOG_LEVELS = Object.keys(LEVEL_RANK) as LogLevel[];

export type LogMessage = string | (() => string);

/** Receives every record that passes the level filter. */
export type LogSink = (record: LogRecord) => void;

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  scope: string;
  message: string;
  time: Date;
  fields?: Record<string, unknown>;
}

export interface Logger {
  readonly scope: string;
  error(message: LogMessage, fields?: Record<string, unknown>): void;
  warn(message: LogMessage, fields?: Record<string, unknown>): void;
  info(message: LogMessage, fields?: Record<string, unknown>): void;
  debug(message: LogMessage, fields?: Record<string, unknown>): void;
  trace(message: LogMessage, fields?: Record<string, unknown>): void;
  /** True when records of this level would be written; guards expensive debug work. */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
  child(scope: string): Logger;
}

function parseLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value === '') return undefined;
  const lower = value.toLowerCase();
  return (LOG_LEVELS as string[]).includes(lower) ? (lower as LogLevel) : undefined;
}

// Tests run silent unless SCULPT_LOG_LEVEL says otherwise, so test output shows only failures.
const defaultLevel: LogLevel =
  parseLevel(process.env.SCULPT_LOG_LEVEL) ?? (process.env.VITEST ? 'silent' : 'info');

let currentLevel: LogLevel = defaultLevel;

/** Writes human-readable lines to stderr, keeping stdout free for results and --json output. */
export const stderrSink: LogSink = (record) => {
  const fields = record.fields && Object.keys(record.fields).length > 0 ? ` ${JSON.stringify(record.fields)}` : '';
  process.stderr.write(`[${record.level}] ${record.scope}: ${record.message}${fields}\n`);
};

let currentSink: LogSink = stderrSink;

export function setLogLevel(level: LogLevel): void {
  currentLevel = level;
}

export function getLogLevel(): LogLevel {
  return currentLevel;
}

/** Replaces where records go (tests capture them; the CLI keeps stderr). Returns the previous sink. */
export function setLogSink(sink: LogSink): LogSink {
  const previous = currentSink;
  currentSink = sink;
  return previous;
}

export function isLogLevel(value: string): value is LogLevel {
  return parseLevel(value) !== undefined;
}

export function getLogger(scope: string): Logger {
  const emit = (level: Exclude<LogLevel, 'silent'>, message: LogMessage, fields?: Record<string, unknown>) => {
    if (LEVEL_RANK[level] > LEVEL_RANK[currentLevel]) return;
    const text = typeof message === 'function' ? message() : message;
    currentSink({ level, scope, message: text, time: new Date(), fields });
  };

  return {
    scope,
    error: (message, fields) => emit('error', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    info: (message, fields) => emit('info', message, fields),
    debug: (message, fields) => emit('debug', message, fields),
    trace: (message, fields) => emit('trace', message, fields),
    enabled: (level) => LEVEL_RANK[level] <= LEVEL_RANK[currentLevel],
    child: (sub) => getLogger(`${scope}:${sub}`),
  };
}

/**
 * Kernel names whose generated shader source should be printed, from
 * SCULPT_PRINT_SHADER ("all" or a comma-separated list of name substrings).
 */
export function shouldPrintShader(kernelName: string): boolean {
  const spec = process.env.SCULPT_PRINT_SHADER;
  if (!spec) return false;
  if (spec === 'all') return true;
  return spec.split(',').some((part) => part.trim() !== '' && kernelName.includes(part.trim()));
}
