export { main, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE } from './main.js';
export { createProgram } from './program.js';
export { getContext, type CliContext } from './context.js';
export { formatRecord, formatTable, output, type OutputOptions } from './output.js';
export { readGlobalOptions, DEVICES, type DeviceChoice, type GlobalOptions } from './global-options.js';
export type { CommandModule } from './command-module.js';
