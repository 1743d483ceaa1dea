/** `sculpt plugins list` and `sculpt plugins show`: what the registry contains. */
import { Option, type Command } from '@commander-js/extra-typings';
import { describeOptions, describePluginKind, PLUGIN_KINDS, UsageError, type PluginInfo, type PluginKind } from '@sculpt/core';
import { getContext } from '../context.js';
import { formatRecord, formatTable, output } from '../output.js';

function sourceLabel(info: PluginInfo): string {
  switch (info.source.type) {
    case 'builtin':
      return info.source.manifest;
    case 'module':
      return info.source.specifier;
    case 'object':
      return '(object)';
    default:
      return info.source satisfies never;
  }
}

export function register(program: Command): void {
  const plugins = program.command('plugins').description('list and inspect registered plugins (built-in and --plugin modules)');

  plugins
    .command('list')
    .description('list registered plugins')
    .addOption(new Option('--kind <kind>', 'only plugins of this kind').choices(PLUGIN_KINDS))
    .action(async (options, command) => {
      const context = getContext(command as unknown as Command);
      const rows = await context.registry.list(options.kind as PluginKind | undefined);
      output(
        rows.map((info) => ({ kind: info.kind, name: info.name, description: info.description, source: sourceLabel(info) })),
        { json: context.globals.json, columns: ['kind', 'name', 'description', 'source'] },
      );
    });

  plugins
    .command('show')
    .description('show a plugin: version, description and options (imports its module)')
    .argument('<name>', 'plugin name')
    .addOption(new Option('--kind <kind>', 'kind of the plugin, needed when the name exists in several kinds').choices(PLUGIN_KINDS))
    .action(async (name, options, command) => {
      const context = getContext(command as unknown as Command);
      const matches = (await context.registry.list(options.kind as PluginKind | undefined)).filter((info) => info.name === name);
      if (matches.length === 0) {
        const all = await context.registry.list(options.kind as PluginKind | undefined);
        const byKind = PLUGIN_KINDS.map((kind) => [kind, all.filter((info) => info.kind === kind).map((info) => info.name)] as const)
          .filter(([, names]) => names.length > 0)
          .map(([kind, names]) => `  ${kind}: ${names.join(', ')}`);
        throw new UsageError(
          `No plugin named "${name}"${options.kind ? ` of kind ${options.kind}` : ''}. Registered plugins:\n${byKind.join('\n') || '  none'}`,
        );
      }
      if (matches.length > 1) {
        throw new UsageError(`"${name}" exists in several kinds (${matches.map((info) => info.kind).join(', ')}). Pass --kind.`);
      }
      const plugin = await context.registry.get(matches[0].kind, name);
      const { jsonSchema, options: rows } = describeOptions(plugin.meta.options);
      const result = {
        kind: plugin.meta.kind,
        name: plugin.meta.name,
        version: plugin.meta.version,
        description: plugin.meta.description,
        source: sourceLabel(matches[0]),
        options: jsonSchema,
      };
      const human = [
        formatRecord({ ...result, kind: `${result.kind} (${describePluginKind(result.kind)})`, options: undefined }).replace(/\noptions:\s*$/, ''),
        '',
        'Options:',
        formatTable(
          rows.map((row) => ({ ...row })),
          ['option', 'type', 'default', 'description'],
        ),
      ].join('\n');
      output(result, { json: context.globals.json, human });
    });
}
