/**
 * `--config FILE`: a JSON object whose keys set option defaults. A top-level
 * key applies to whichever command runs, if that command (or the root) has an
 * option of that name. A nested object under the command's path (`"prune"`,
 * `"plugins list"`) applies to that command only and overrides the top level.
 * Flags on the command line always win over the file. The file may also
 * supply required options, so their check runs after it is applied.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command, Option } from '@commander-js/extra-typings';
import { readConfigObject, UsageError } from '@sculpt/core';

export type ConfigObject = Record<string, unknown>;

/**
 * Reads the config file. A missing file is a usage error (the flag points
 * nowhere), while unreadable or invalid JSON is an input error that names the file.
 */
export async function readConfigFile(file: string): Promise<ConfigObject> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`Config file not found: ${path}. Check the path given to --config.`);
  return readConfigObject(path);
}

/** Names under which a command's config section may appear: "plugins list" and "plugins.list". */
export function commandPath(command: Command): string[] {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent as Command | null) names.unshift(current.name());
  return names;
}

function sectionFor(config: ConfigObject, path: string[]): ConfigObject | undefined {
  if (path.length === 0) return undefined;
  const spaced = config[path.join(' ')];
  if (typeof spaced === 'object' && spaced !== null && !Array.isArray(spaced)) return spaced as ConfigObject;
  let current: unknown = config;
  for (const name of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as ConfigObject)[name];
  }
  return typeof current === 'object' && current !== null && !Array.isArray(current) ? (current as ConfigObject) : undefined;
}

/** Converts a JSON value to what the option would hold had it been given on the command line. */
function coerce(option: Option, value: unknown, where: string): unknown {
  if (option.isBoolean()) {
    if (typeof value !== 'boolean') throw new UsageError(`${where}: expected true or false for --${option.long?.replace(/^--/, '')}, got ${JSON.stringify(value)}`);
    return option.negate ? !value : value;
  }
  const parse = option.parseArg;
  const convert = (item: unknown, previous: unknown): unknown => {
    if (typeof item === 'object' && item !== null) {
      throw new UsageError(`${where}: expected a string, number or boolean, got ${JSON.stringify(item)}`);
    }
    if (!parse) return String(item);
    try {
      return parse(String(item), previous);
    } catch (error) {
      throw new UsageError(`${where}: ${(error as Error).message}`);
    }
  };
  if (option.variadic) {
    const items = Array.isArray(value) ? value : [value];
    let result: unknown = undefined;
    for (const item of items) result = parse ? convert(item, result) : [...((result as unknown[]) ?? []), convert(item, undefined)];
    return result;
  }
  return convert(value, undefined);
}

function applyTo(command: Command, values: ConfigObject, file: string, warnings: string[] | undefined): void {
  const options = command.options as readonly Option[];
  for (const [key, value] of Object.entries(values)) {
    const option = options.find((o) => o.attributeName() === key || o.long === `--${key}`);
    if (!option) {
      warnings?.push(`${file}: key "${key}" matches no option of "${commandPath(command).join(' ')}"; ignored`);
      continue;
    }
    const attribute = option.attributeName();
    const source = command.getOptionValueSource(attribute);
    // Flags given on the command line (or through the environment) win over the file.
    // A command section may still override a top-level key of the same file.
    if (source !== undefined && source !== 'default' && source !== 'config') continue;
    command.setOptionValueWithSource(attribute, coerce(option, value, `${file}: key "${key}"`), 'config');
  }
}

/**
 * Applies the config to the root program and to the running command, and
 * returns warnings for keys of the command's section that match no option
 * (the caller logs them once the log level is set). Top-level keys whose
 * values are objects are command sections, so they are skipped there, and
 * top-level keys that match no option are ignored silently because one file
 * may serve several commands.
 */
export function applyConfigDefaults(root: Command, actionCommand: Command, config: ConfigObject, file: string): string[] {
  const scalars = Object.fromEntries(
    Object.entries(config).filter(([, value]) => typeof value !== 'object' || value === null || Array.isArray(value)),
  );
  const warnings: string[] = [];
  applyTo(root, scalars, file, undefined);
  if (actionCommand !== root) {
    applyTo(actionCommand, scalars, file, undefined);
    const section = sectionFor(config, commandPath(actionCommand));
    if (section) applyTo(actionCommand, section, file, warnings);
  }
  return warnings;
}

/** Required options whose check moved from commander's parser to `checkRequiredOptions`. */
const deferredRequired = new WeakSet<Option>();

/**
 * Makes the required options of `command` and its subcommands optional for
 * commander, because commander checks them before any hook can apply the
 * config file. `checkRequiredOptions` runs the same check afterwards.
 */
export function deferRequiredOptions(command: Command): void {
  for (const option of command.options as readonly Option[]) {
    if (!option.mandatory) continue;
    option.makeOptionMandatory(false);
    deferredRequired.add(option);
  }
  for (const sub of command.commands as Command[]) deferRequiredOptions(sub);
}

/**
 * Throws a usage error for the first required option of the running command
 * (or of its ancestors) that neither the command line nor the config file set.
 */
export function checkRequiredOptions(actionCommand: Command, configFile: string | undefined): void {
  for (let command: Command | null = actionCommand; command; command = command.parent as Command | null) {
    for (const option of command.options as readonly Option[]) {
      if (!deferredRequired.has(option) || command.getOptionValue(option.attributeName()) !== undefined) continue;
      const where =
        configFile === undefined
          ? `pass ${option.long ?? option.flags} or set "${option.attributeName()}" in a --config file`
          : `pass ${option.long ?? option.flags} or set "${option.attributeName()}" in ${resolve(configFile)}`;
      throw new UsageError(`required option '${option.flags}' not specified; ${where}`);
    }
  }
}
