import { LineProgressReporter, type LineProgressOptions } from './lines.js';
import { SilentProgressReporter, type ProgressReporter } from './reporter.js';
import { TtyProgressReporter } from './tty.js';

export * from './reporter.js';
export { LineProgressReporter, type LineProgressOptions } from './lines.js';
export { TtyProgressReporter } from './tty.js';

export interface ProgressChoice {
  /** --json output: nothing but the JSON document, so no progress at all. */
  json?: boolean;
  /** Stream the bars would draw on; a live bar only when it is a terminal. */
  stream?: NodeJS.WriteStream;
  lines?: LineProgressOptions;
}

/** Picks the reporter for the environment: silent for --json and tests, bars on a terminal, lines otherwise. */
export function createProgressReporter(choice: ProgressChoice = {}): ProgressReporter {
  if (choice.json || process.env.VITEST) return new SilentProgressReporter();
  const stream = choice.stream ?? process.stderr;
  if (stream.isTTY && !process.env.CI) return new TtyProgressReporter(stream);
  return new LineProgressReporter(choice.lines);
}
