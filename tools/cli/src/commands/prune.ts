/**
 * `sculpt prune`: prunes a model block by block with a registered pruning
 * method and writes the pruned model in its input format, plus a JSON report
 * (`OUT.report.json`) and the calibration windows (`OUT.calibration.json`).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '@sculpt/core';
import type { PruneRunResult } from '@sculpt/pruners';
import { getContext, rootOf } from '../context.js';
import { formatTable, output } from '../output.js';
import { CALIBRATION_FORMAT_CHOICES } from './calibrate.js';
import { collect, parseKeyValues, positiveInteger } from '../option-parsers.js';

function nonNegativeInteger(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) throw new UsageError(`${name} must be a non-negative integer, got "${value}"`);
    return number;
  };
}

function fraction(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || number > 1) throw new UsageError(`--sparsity must be a number between 0 and 1, got "${value}"`);
  return number;
}

/**
 * Returns the per-layer table and the run summary that `sculpt prune` prints.
 * The OBS loss column (SparseGPT's saliency sum Σ w_q² / (2·[H⁻¹]_qq) over
 * the pruned weights) appears only when the method computes it. Wanda,
 * magnitude and OWL have none.
 */
export function humanReport(result: PruneRunResult): string {
  const hasLoss = result.layers.some((layer) => layer.loss !== undefined);
  const rows = result.layers.map((layer) => {
    const row: Record<string, string> = {
      layer: layer.name,
      shape: `${layer.outFeatures}×${layer.inFeatures}`,
      sparsity: layer.sparsity.toFixed(4),
      'rel. error': layer.relativeError.toExponential(3),
      error: layer.reconstructionError.toExponential(3),
    };
    if (hasLoss) row['obs loss'] = layer.loss === undefined ? '-' : layer.loss.toExponential(3);
    return row;
  });
  const lines = [
    formatTable(rows),
    '',
    `method:           ${result.method}${result.pattern === null ? '' : ` ${result.pattern}`} (${result.mode} mode, schedule ${result.schedule})`,
    `actual sparsity:  ${result.actualSparsity.toFixed(6)} (target ${result.targetSparsity})`,
    `calibration:      ${result.calibration.nsamples} × ${result.calibration.seqlen} tokens from ${result.calibration.source === 'datasets' ? result.calibration.datasets.join(', ') : result.calibration.source}`,
    `time:             ${result.seconds.toFixed(2)} s`,
    `peak memory:      ${(result.peakMemoryBytes / 2 ** 20).toFixed(1)} MiB`,
    `model written to: ${result.output}`,
    `report:           ${result.reportPath}`,
  ];
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('prune')
    .description('prune a model with a registered method (magnitude, wanda, sparsegpt, owl, ria, wanda+obs, or a plugin)')
    .requiredOption('--model <path>', 'model: llama2.c .bin, Hugging Face folder or ONNX file')
    .requiredOption('--method <name>', 'pruning method (see `sculpt plugins list --kind pruner`)')
    .option('--method-option <key=value>', 'method option, e.g. variant=true for wanda or blockSize=64 for sparsegpt (repeatable)', collect, [] as string[])
    .option('--sparsity <p>', 'fraction of each layer to prune, 0..1', fraction, 0.5)
    .addOption(new Option('--pattern <n:m>', 'N:M semi-structured pattern; fixes the sparsity at 0.5').choices(['2:4', '4:8']))
    .option('--calibration <names>', 'calibration dataset(s), comma-separated; each gets nsamples / count sequences')
    .addOption(new Option('--format <format>', 'calibration sample format (default icl for downstream sets, window for corpora)').choices(CALIBRATION_FORMAT_CHOICES))
    .addOption(new Option('--split <split>', "calibration split (default: each dataset's training split)").choices(['train', 'validation', 'test', 'all'] as const))
    .option('--data-dir <dir>', 'root of the local data layout (default: $SCULPT_DATA_DIR)')
    .option('--calibration-tokens <file>', 'read calibration windows from a `sculpt calibrate` file instead of datasets')
    .option('--nsamples <n>', 'number of calibration sequences', positiveInteger('--nsamples'), 128)
    .option('--seqlen <n>', 'tokens per calibration sequence', positiveInteger('--seqlen'), 2048)
    .option('--seed <n>', 'seed of the calibration sampler', nonNegativeInteger('--seed'), 0)
    .addOption(new Option('--mode <mode>', 'faithful: padding counted in statistics as the reference; clean: padding left out').choices(['faithful', 'clean'] as const).default('faithful' as const))
    .option('--no-propagate-error', 'feed each block the dense outputs of the previous block instead of the pruned ones')
    .option('--true-sequential', 'prune each block in groups (q,k,v → o → gate,up → down), re-collecting statistics between groups', false)
    .addOption(
      new Option('--hessian-precision <precision>', "storage of SparseGPT's Hessians on the host: float32 as the reference, or float64 for exact comparisons")
        .choices(['float32', 'float64'] as const)
        .default('float32' as const),
    )
    .option('--force', 'overwrite an existing output', false)
    .requiredOption('--out <path>', 'where to write the pruned model (same format as the input)')
    .action(async (options, command) => {
      const context = getContext(command as unknown as Command);
      const calibration = options.calibration?.split(',').map((name) => name.trim()).filter((name) => name !== '');
      if (calibration !== undefined && calibration.length === 0) throw new UsageError('--calibration is empty; pass a dataset name such as c4 or gsm8k');
      if (calibration !== undefined && options.calibrationTokens !== undefined) throw new UsageError('pass either --calibration or --calibration-tokens, not both');
      const sparsityGiven = (command as unknown as Command).getOptionValueSource('sparsity') === 'cli';
      if (options.pattern !== undefined && sparsityGiven && options.sparsity !== 0.5) {
        throw new UsageError(`--pattern ${options.pattern} prunes exactly half of every group; drop --sparsity ${options.sparsity} or set it to 0.5`);
      }

      const { runPrune } = await import('@sculpt/pruners');
      // Only an explicit --device moves statistics to a device; by default the
      // host path runs (float64 with --hessian-precision float64, the precision
      // of the spec's vectors).
      const deviceGiven = rootOf(command as unknown as Command).getOptionValueSource('device') === 'cli';
      const result = await runPrune({
        registry: context.registry,
        device: deviceGiven ? context.globals.device : undefined,
        modelPath: options.model,
        method: options.method,
        methodOptions: parseKeyValues(options.methodOption, '--method-option'),
        sparsity: options.pattern === undefined ? options.sparsity : 0.5,
        pattern: options.pattern,
        calibration,
        format: options.format,
        split: options.split,
        dataDir: options.dataDir,
        calibrationTokens: options.calibrationTokens,
        nsamples: options.nsamples,
        seqlen: options.seqlen,
        seed: options.seed,
        out: options.out,
        mode: options.mode,
        propagateError: options.propagateError,
        trueSequential: options.trueSequential,
        hessianPrecision: options.hessianPrecision,
        force: options.force,
        progress: context.progress,
        signal: context.signal,
      });
      output(result, { json: context.globals.json, human: humanReport(result) });
    });
}
