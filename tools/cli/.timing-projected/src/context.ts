/**
 * The command context: everything a command needs from the CLI besides its
 * own options. It contains the global options, the plugin registry (with
 * --plugin modules loaded), a progress reporter that fits the output, the
 * --config object and an AbortSignal that fires on Ctrl-C.
 */
import type { Command } from '@commander-js/extra-typings';
import { createProgressReporter, Registry, type ProgressReporter } from '@sculpt/core';
import type { ConfigObject } from './config-defaults.js';
import { readGlobalOptions, type GlobalOptions } from './global-options.js';

export interface CliContext {
  globals: GlobalOptions;
  registry: Registry;
  progress: ProgressReporter;
  /** The parsed --config file, or an empty object. */
  config: ConfigObject;
  signal: AbortSignal;
}

/** State of one `main()` call, attached to its root program. */
export interface Session {
  registry: Registry;
  config: ConfigObject;
  signal: AbortSignal;
  progress?: ProgressReporter;
}

const sessions = new WeakMap<Command, Session>();

export function rootOf(command: Command): Command {
  let current = command;
  while (current.parent) current = current.parent as Command;
  return current;
}

export function attachSession(root: Command, session: Session): void {
  sessions.set(root, session);
}

export function getSession(command: Command): Session {
  const session = sessions.get(rootOf(command));
  if (!session) throw new Error('No CLI session: the command was not started through main()');
  return session;
}

/**
 * Returns the context for the running command. Call it from an action
 * handler with the command object commander passes as the last argument.
 */
export function getContext(command: Command): CliContext {
  const session = getSession(command);
  const globals = readGlobalOptions(command);
  session.progress ??= createProgressReporter({ json: globals.json || globals.logLevel === 'silent' });
  return { globals, registry: session.registry, progress: session.progress, config: session.config, signal: session.signal };
}
