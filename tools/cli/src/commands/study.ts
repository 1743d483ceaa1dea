/**
 * `sculpt study --config study.json`: runs a calibration study grid
 * (calibration sets × formats × methods × sparsities/patterns × seeds, each
 * cell evaluated on perplexity and downstream tasks) against one model.
 * Results go to OUT/results.sqlite; running the same config again resumes an
 * interrupted study without redoing finished cells. Writes OUT/report.md and
 * plots under OUT/plots.
 */
import type { Command } from '@commander-js/extra-typings';
import { parseWithSchema, UsageError } from '@sculpt/core';
import { getContext, rootOf } from '../context.js';
import { output } from '../output.js';

export function register(program: Command): void {
  program
    .command('study')
    .description('run a calibration-data pruning study from the JSON file given with --config (resumable; writes a report with plots)')
    .action(async (_options, command) => {
      const context = getContext(command as unknown as Command);
      const file = context.globals.config;
      if (file === undefined) throw new UsageError('sculpt study needs its grid: pass --config study.json');
      const { resolveStudyPaths, runStudy, studyConfigSchema } = await import('@sculpt/pruners');
      const parsed = resolveStudyPaths(parseWithSchema(studyConfigSchema, context.config, `Invalid study configuration in ${file}`), file);
      // An explicit --device overrides the config's "device"; it becomes part of the run's configuration.
      const deviceGiven = rootOf(command as unknown as Command).getOptionValueSource('device') === 'cli';
      const config = deviceGiven ? { ...parsed, device: context.globals.device } : parsed;

      const summary = await runStudy({ config, registry: context.registry, progress: context.progress, signal: context.signal });
      output(summary, {
        json: context.globals.json,
        human: [
          `study run ${summary.runId}: ${summary.cells} cells, ${summary.executed.length} run now, ${summary.reused} reused from ${summary.store}`,
          `report: ${summary.report.markdown}`,
          ...summary.report.plots.map((plot) => `plot:   ${plot}`),
        ].join('\n'),
      });
    });
}
