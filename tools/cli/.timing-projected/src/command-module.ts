import type { Command } from '@commander-js/extra-typings';

/** What every file under `commands/` exports: a function that adds its subcommand to the root program. */
export interface CommandModule {
  register(program: Command): void;
}
