/**
 * `sculpt eval TASK`: few-shot downstream accuracy of a model on one task
 * (gsm8k, svamp, mawps, anli_r1..3, esnli, commonsense_qa, race,
 * winogrande), with greedy decoding or log-likelihood choice scoring, and a
 * 95% Wilson interval. `sculpt eval task NAME` runs a task added by a plugin.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '@sculpt/core';
import type { EvalRunResult, TaskName } from '@sculpt/pruners';
import { getContext, rootOf } from '../context.js';
import { output } from '../output.js';
import { positiveInteger } from '../option-parsers.js';

/**
 * The built-in task names, written out so `sculpt --help` does not load the
 * pruners package; `satisfies` keeps the list in step with its TaskName type.
 */
export const BUILTIN_TASK_NAMES = [
  'gsm8k',
  'svamp',
  'mawps',
  'anli_r1',
  'anli_r2',
  'anli_r3',
  'esnli',
  'commonsense_qa',
  'race',
  'winogrande',
] as const satisfies readonly TaskName[];

function human(result: EvalRunResult): string {
  const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
  return [
    `task:      ${result.task}${result.cot ? ' (chain of thought)' : ''}`,
    `scoring:   ${result.scoring === 'generate' ? 'greedy generation' : 'log-likelihood of the answer choices'}`,
    `device:    ${result.device}`,
    `accuracy:  ${percent(result.accuracy)} (${result.correct}/${result.total}), 95% CI ${percent(result.lower)}–${percent(result.upper)}`,
    `truncated: ${result.truncatedPrompts} prompts`,
    `time:      ${result.seconds.toFixed(1)} s`,
  ].join('\n');
}

function addTaskCommand(parent: Command, name: string, description: string, fixedTask?: string): void {
  const command = parent.command(name).description(description);
  if (fixedTask === undefined) command.argument('<task>', 'registered eval-task plugin name');
  command
    .requiredOption('--model <path>', 'model: llama2.c .bin, Hugging Face folder or ONNX file')
    .option('--data-dir <dir>', 'root of the local data layout (default: $SCULPT_DATA_DIR)')
    .option('--limit <n>', 'evaluate only the first n items', positiveInteger('--limit'))
    .addOption(
      new Option('--scoring <kind>', 'generate: greedy decoding and answer extraction; loglikelihood: pick the most likely answer choice; auto: loglikelihood when the task has answer choices')
        .choices(['generate', 'loglikelihood', 'auto'] as const)
        .default('generate' as const),
    )
    .option('--cot', 'chain-of-thought demonstrations and extraction (gsm8k, anli, esnli)', false)
    .option('--items', 'include every item with its prediction in the output', false)
    .action(async (...args: unknown[]) => {
      const actionCommand = args[args.length - 1] as Command;
      const options = actionCommand.opts() as { model: string; dataDir?: string; limit?: number; scoring: 'generate' | 'loglikelihood' | 'auto'; cot: boolean; items: boolean };
      const task = fixedTask ?? String(args[0]);
      const context = getContext(actionCommand);
      const { runEvalTask } = await import('@sculpt/pruners');
      // Only an explicit --device moves the model's blocks; by default the host path runs.
      const deviceGiven = rootOf(actionCommand).getOptionValueSource('device') === 'cli';
      const result = await runEvalTask({
        registry: context.registry,
        modelPath: options.model,
        task,
        dataDir: options.dataDir,
        limit: options.limit,
        scoring: options.scoring,
        cot: options.cot,
        device: deviceGiven ? context.globals.device : undefined,
        progress: context.progress,
        signal: context.signal,
      });
      const shown = options.items ? result : { ...result, items: undefined };
      output(shown, { json: context.globals.json, human: human(result) });
    });
}

export function register(program: Command): void {
  const evalCommand = (program.commands.find((command) => command.name() === 'eval') as Command | undefined) ?? program.command('eval').description('evaluate a model');
  for (const task of BUILTIN_TASK_NAMES) addTaskCommand(evalCommand, task, `few-shot ${task} accuracy (greedy decoding or log-likelihood scoring, 95% Wilson interval)`, task);
  addTaskCommand(evalCommand, 'task', 'run an eval-task plugin by name');
}
