/**
 * Entry of the sculpt CLI. `main(argv)` parses the arguments, runs the
 * command and returns the exit code instead of calling process.exit, so tests
 * and embedding programs can call it.
 *
 * Exit codes: 0 success (and --help), 1 failure, 2 usage error (a bad flag,
 * value or config, including commander's own parse errors), 130 interrupted
 * by Ctrl-C.
 */
import { CommanderError } from '@commander-js/extra-typings';
import { AbortError, getLogger, Registry, SculptError, UsageError } from '@sculpt/core';
import { attachSession, getSession } from './context.js';
import { createProgram } from './program.js';

const log = getLogger('cli');

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version end parsing through the same exception, with exit code 0.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof UsageError) return EXIT_USAGE;
  if (error instanceof AbortError) return EXIT_INTERRUPTED;
  return EXIT_FAILURE;
}

function reportError(error: unknown, code: number, json: boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  // Commander has already printed its own parse errors to stderr.
  if (!(error instanceof CommanderError)) {
    process.stderr.write(`sculpt: ${message}\n`);
    if (!(error instanceof SculptError) && error instanceof Error && error.stack) log.debug(error.stack);
  }
  if (json) {
    // Commander's parse errors are usage errors too; report them under one type.
    const type = error instanceof CommanderError ? 'UsageError' : error instanceof Error ? error.name : 'Error';
    const text = message.trim().replace(/^error: /, '');
    process.stdout.write(`${JSON.stringify({ error: { type, message: text, exitCode: code } }, null, 2)}\n`);
  }
}

/** Runs the CLI with the given argv (as in process.argv) and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    process.stderr.write('sculpt: interrupted, stopping after the current unit of work (press Ctrl-C again to quit now)\n');
    controller.abort(new AbortError('Interrupted by the user'));
  };
  process.on('SIGINT', onInterrupt);

  const program = createProgram();
  attachSession(program, { registry: new Registry({ cwd: process.cwd() }), config: {}, signal: controller.signal });

  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (error) {
    // Close progress first, so the final progress lines come before the error message.
    getSession(program).progress?.close();
    const code = exitCodeFor(error);
    if (code !== EXIT_OK) reportError(error, code, wantsJson(argv));
    return code;
  } finally {
    getSession(program).progress?.close();
    process.off('SIGINT', onInterrupt);
  }
}
