/** Builds the root `sculpt` program: global options, hooks and every command module. */
import { readFileSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { getLogger, setLogLevel } from '@sculpt/core';
import { commandModules } from './commands/index.js';
import { applyConfigDefaults, checkRequiredOptions, deferRequiredOptions, readConfigFile } from './config-defaults.js';
import { getSession } from './context.js';
import { addGlobalOptions, readGlobalOptions } from './global-options.js';

const log = getLogger('cli');

function cliVersion(): string {
  const json = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return json.version;
}

export function createProgram(): Command {
  const root: Command = new Command('sculpt')
    .description('Prune LLMs with a study of calibration data, and synthesize Python programs with ChainCoder')
    .version(cliVersion(), '-V, --version', 'print the sculpt version')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true);
  addGlobalOptions(root);

  // Commands created with .command() copy these settings from their parent.
  root.exitOverride();
  root.configureOutput({
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
  });

  root.hook('preAction', async (_thisCommand, actionCommand) => {
    await prepareCommand(root, actionCommand as Command);
  });

  for (const module of commandModules) module.register(root);

  // Commands attached with .addCommand() do not copy them, so every level is set explicitly.
  const configure = (command: Command) => {
    command.exitOverride();
    command.showHelpAfterError('(run with --help for usage)');
    for (const sub of command.commands as Command[]) configure(sub);
  };
  configure(root);
  deferRequiredOptions(root);
  return root;
}

/** Runs before every action: --config defaults, --log-level, --print-shader, --plugin. */
async function prepareCommand(root: Command, actionCommand: Command): Promise<void> {
  const session = getSession(root);
  const configFile = readGlobalOptions(actionCommand).config;
  let warnings: string[] = [];
  if (configFile !== undefined) {
    session.config = await readConfigFile(configFile);
    warnings = applyConfigDefaults(root, actionCommand, session.config, configFile);
  }
  checkRequiredOptions(actionCommand, configFile);

  const globals = readGlobalOptions(actionCommand);
  setLogLevel(globals.logLevel);
  for (const warning of warnings) log.warn(warning);
  if (globals.printShader !== undefined) process.env.SCULPT_PRINT_SHADER = globals.printShader;

  for (const specifier of globals.plugin) {
    const ids = await session.registry.load(specifier);
    log.debug(() => `--plugin ${specifier}: registered ${ids.join(', ')}`);
  }
}
