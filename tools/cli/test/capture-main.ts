/** Runs the CLI's `main()` inside the test process and captures what it writes. */
import { setLogLevel, setLogSink, stderrSink, type LogRecord } from '@sculpt/core';
import { vi } from 'vitest';
import { main } from '../src/main.js';

export interface CapturedRun {
  /** Exit code that `main()` returned. */
  code: number;
  stdout: string;
  stderr: string;
  /** Log records, which go to this list instead of stderr. */
  logs: LogRecord[];
}

/** Runs `sculpt ARGS` through `main()` with stdout and stderr replaced by strings and logs by a list. */
export async function runMain(...args: string[]): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const logs: LogRecord[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  setLogSink((record) => logs.push(record));
  const code = await main(['node', 'sculpt', ...args]);
  vi.restoreAllMocks();
  return { code, stdout, stderr, logs };
}

/**
 * Restores the real stdout, stderr and log sink and silences logs. Call it
 * from `afterEach`, because a test that fails inside `runMain` leaves its mocks in place.
 */
export function restoreOutput(): void {
  vi.restoreAllMocks();
  setLogSink(stderrSink);
  setLogLevel('silent');
}
