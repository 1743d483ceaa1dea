/**
 * The command modules of the sculpt CLI, registered in this order (which is
 * also the order `sculpt --help` lists them). To add a command, create
 * `commands/<name>.ts` exporting `register(program)`, then add one import
 * line and one array entry here.
 */
import type { CommandModule } from '../command-module.js';
import * as plugins from './plugins.js';
import * as runs from './runs.js';
import * as calibrate from './calibrate.js';
import * as generate from './generate.js';
import * as convert from './convert.js';
import * as evalPpl from './eval-ppl.js';
import * as chaincoder from './chaincoder.js';
import * as devices from './devices.js';
import * as selfcheck from './selfcheck.js';

export const commandModules: CommandModule[] = [
  plugins,
  runs,
  calibrate,
  generate,
  convert,
  evalPpl,
  chaincoder,
  devices,
  selfcheck,
];
