/** The options every sculpt command accepts, defined on the root program. */
import { Option, type Command } from '@commander-js/extra-typings';
import { isLogLevel, LOG_LEVELS, UsageError, type LogLevel } from '@sculpt/core';

export const DEVICES = ['auto', 'cpu', 'webgpu'] as const;
export type DeviceChoice = (typeof DEVICES)[number];

export interface GlobalOptions {
  /** Print exactly one JSON document on stdout; logs and progress stay on stderr. */
  json: boolean;
  device: DeviceChoice;
  logLevel: LogLevel;
  config?: string;
  plugin: string[];
  printShader?: string;
}

/** Adds the global options to the root program. */
export function addGlobalOptions(program: Command): void {
  program
    .option('--json', 'print the result as one JSON document on stdout', false)
    .addOption(new Option('--device <device>', 'compute device for models and kernels').choices(DEVICES).default('auto'))
    .addOption(
      new Option('--log-level <level>', 'log verbosity on stderr')
        .choices(LOG_LEVELS)
        .default(process.env.SCULPT_LOG_LEVEL && isLogLevel(process.env.SCULPT_LOG_LEVEL) ? process.env.SCULPT_LOG_LEVEL : 'info'),
    )
    .option('--config <file>', 'JSON file whose keys set option defaults of the command (flags still win)')
    // Repeatable rather than variadic: a variadic option would swallow the command name that follows it.
    .option(
      '--plugin <module>',
      'load plugins from a module path or package name before the command runs (repeat for several)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--print-shader <names>', 'print the generated WGSL of kernels whose name contains one of these comma-separated names ("all" for every kernel)');
}

/** Reads the global options as seen from any (sub)command, checking their types. */
export function readGlobalOptions(command: Command): GlobalOptions {
  const raw = command.optsWithGlobals() as Record<string, unknown>;
  const logLevel = String(raw.logLevel ?? 'info');
  if (!isLogLevel(logLevel)) throw new UsageError(`Invalid --log-level "${logLevel}". Allowed: ${LOG_LEVELS.join(', ')}`);
  const device = String(raw.device ?? 'auto');
  if (!(DEVICES as readonly string[]).includes(device)) {
    throw new UsageError(`Invalid --device "${device}". Allowed: ${DEVICES.join(', ')}`);
  }
  const plugin = raw.plugin === undefined ? [] : Array.isArray(raw.plugin) ? raw.plugin.map(String) : [String(raw.plugin)];
  return {
    json: raw.json === true,
    device: device as DeviceChoice,
    logLevel,
    config: typeof raw.config === 'string' ? raw.config : undefined,
    plugin,
    printShader: typeof raw.printShader === 'string' ? raw.printShader : undefined,
  };
}
