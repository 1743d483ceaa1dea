/**
 * The study report: a markdown table per method and sparsity setting (rows
 * calibration set / format, columns perplexity and tasks, mean ± standard
 * deviation over seeds, the dense model first) and three plots: perplexity per
 * calibration set, accuracy per task per calibration set, and perplexity over
 * sparsity.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '@sculpt/core';
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from './charts.js';
import type { StudyConfig } from './config.js';
import type { TaskScoring } from '../tasks/runner.js';
import type { CellResult } from './runner.js';

export interface StudyReportFiles {
  markdown: string;
  json: string;
  plots: string[];
}

/** One (method, setting, calibration, format) group with its values over seeds. */
export interface ReportRow {
  method: string;
  setting: string;
  calibration: string;
  format: string;
  seeds: number;
  perplexity: number[];
  tasks: Record<string, number[]>;
  actualSparsity: number;
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const average = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1));
}

export function groupResults(results: readonly CellResult[]): ReportRow[] {
  const rows = new Map<string, ReportRow>();
  for (const result of results) {
    const { cell } = result;
    const key = [cell.methodLabel, cell.setting, cell.calibrationLabel, cell.format ?? ''].join('|');
    let row = rows.get(key);
    if (row === undefined) {
      row = { method: cell.methodLabel, setting: cell.setting, calibration: cell.calibrationLabel, format: cell.format ?? '', seeds: 0, perplexity: [], tasks: {}, actualSparsity: 0 };
      rows.set(key, row);
    }
    row.seeds += 1;
    row.actualSparsity += (result.actualSparsity - row.actualSparsity) / row.seeds;
    if (result.perplexity !== null) row.perplexity.push(result.perplexity);
    for (const [task, summary] of Object.entries(result.tasks)) (row.tasks[task] ??= []).push(summary.accuracy);
  }
  return [...rows.values()];
}

function formatStatistic(values: readonly number[], percent: boolean): string {
  if (values.length === 0) return '–';
  const scale = percent ? 100 : 1;
  const digits = percent ? 1 : 2;
  const average = (mean(values) * scale).toFixed(digits);
  return values.length < 2 ? average : `${average} ± ${(standardDeviation(values) * scale).toFixed(digits)}`;
}

/** Collects, from the stored cell results, the scoring each task's results used. */
export function taskScorings(results: readonly CellResult[]): Map<string, TaskScoring> {
  const scorings = new Map<string, TaskScoring>();
  for (const result of results) {
    for (const [task, summary] of Object.entries(result.tasks)) if (summary.scoring !== undefined) scorings.set(task, summary.scoring);
  }
  return scorings;
}

/** Writes the report's sentence on the perplexity text: dataset, split and windows. */
function perplexitySentence(config: StudyConfig): string {
  const settings = config.perplexity;
  if (settings === null) return 'Perplexity was not measured.';
  const split = settings.split === undefined ? 'its default split' : `the ${settings.split} split`;
  const windows = settings.maxWindows === undefined ? 'all windows' : `at most ${settings.maxWindows} windows`;
  return `Perplexity on ${settings.dataset}, ${split}, ${windows} of ${settings.seqlen ?? config.seqlen} tokens.`;
}

/** Writes the report's sentences on how each task was scored. */
function scoringSentences(config: StudyConfig, scorings: ReadonlyMap<string, TaskScoring>): string {
  if (config.tasks.length === 0) return 'No downstream tasks were evaluated.';
  const items = config.taskLimit === undefined ? '' : ` on the first ${config.taskLimit} items`;
  const byLikelihood = config.tasks.filter((task) => (scorings.get(task) ?? config.scoring) === 'loglikelihood');
  const byGeneration = config.tasks.filter((task) => !byLikelihood.includes(task));
  const sentences: string[] = [];
  if (byGeneration.length > 0) sentences.push(`Greedy generation with answer extraction${items}: ${byGeneration.join(', ')} (the paper's runs sampled instead).`);
  if (byLikelihood.length > 0) sentences.push(`Log-likelihood of the answer choices${items}: ${byLikelihood.join(', ')}.`);
  return sentences.join(' ');
}

export function markdownReport(config: StudyConfig, rows: readonly ReportRow[], scorings: ReadonlyMap<string, TaskScoring> = new Map()): string {
  const dense = rows.find((row) => row.method === 'dense');
  const groups = new Map<string, ReportRow[]>();
  for (const row of rows) {
    if (row.method === 'dense') continue;
    const key = `${row.method} @ ${row.setting.includes(':') ? row.setting : `${Number(row.setting) * 100}%`}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(row);
  }

  const header = ['calibration', 'format', 'perplexity', ...config.tasks.map((task) => `${task} acc. %`)];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const tableRow = (row: ReportRow) =>
    line([row.calibration, row.format, formatStatistic(row.perplexity, false), ...config.tasks.map((task) => formatStatistic(row.tasks[task] ?? [], true))]);

  const parts = [
    '# Calibration study',
    '',
    `Model \`${config.model}\`; ${config.nsamples} calibration sequences of ${config.seqlen} tokens; ${config.mode} mode; seeds ${config.seeds.join(', ')}.`,
    perplexitySentence(config),
    scoringSentences(config, scorings),
    'Cells show mean ± sample standard deviation over seeds.',
    '',
  ];
  for (const [title, group] of groups) {
    parts.push(`## ${title}`, '', line(header), line(header.map(() => '---')));
    if (dense !== undefined) parts.push(tableRow({ ...dense, format: '' }));
    for (const row of group) parts.push(tableRow(row));
    const sparsity = mean(group.map((row) => row.actualSparsity));
    parts.push('', `Actual sparsity over all linear layers: ${sparsity.toFixed(4)}.`, '');
  }
  return `${parts.join('\n')}\n`;
}

function perplexitySpec(rows: readonly ReportRow[]): TopLevelSpec {
  const values = rows
    .filter((row) => row.method !== 'dense' && row.perplexity.length > 0)
    .map((row) => ({ calibration: `${row.calibration} (${row.format})`, setting: `${row.method} ${row.setting}`, perplexity: mean(row.perplexity) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Perplexity after pruning, per calibration set',
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'calibration', type: 'nominal', title: 'calibration set (format)' },
      xOffset: { field: 'setting' },
      y: { field: 'perplexity', type: 'quantitative', title: 'perplexity (lower is better)' },
      color: { field: 'setting', type: 'nominal', title: 'method, sparsity' },
    },
    width: 420,
    height: 240,
  };
}

function accuracySpec(rows: readonly ReportRow[], tasks: readonly string[]): TopLevelSpec {
  const values = rows.flatMap((row) =>
    tasks
      .filter((task) => (row.tasks[task] ?? []).length > 0)
      .map((task) => ({
        calibration: row.method === 'dense' ? 'dense' : `${row.calibration} (${row.format})`,
        setting: row.method === 'dense' ? 'dense' : `${row.method} ${row.setting}`,
        task,
        accuracy: mean(row.tasks[task]),
      })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Downstream accuracy per task and calibration set',
    data: { values },
    mark: 'bar',
    encoding: {
      column: { field: 'task', type: 'nominal', title: 'task' },
      x: { field: 'calibration', type: 'nominal', title: null },
      xOffset: { field: 'setting' },
      y: { field: 'accuracy', type: 'quantitative', axis: { format: '%' }, title: 'accuracy' },
      color: { field: 'setting', type: 'nominal', title: 'method, sparsity' },
    },
    width: 220,
    height: 200,
  };
}

function sweepSpec(rows: readonly ReportRow[]): TopLevelSpec {
  const values = rows
    .filter((row) => row.method !== 'dense' && !row.setting.includes(':') && row.perplexity.length > 0)
    .map((row) => ({ sparsity: Number(row.setting), perplexity: mean(row.perplexity), series: `${row.method}, ${row.calibration} (${row.format})` }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Perplexity over unstructured sparsity',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'sparsity', type: 'quantitative', axis: { format: '%' }, title: 'sparsity' },
      y: { field: 'perplexity', type: 'quantitative', scale: { type: 'log' }, title: 'perplexity (log scale)' },
      color: { field: 'series', type: 'nominal', title: 'method, calibration' },
    },
    width: 420,
    height: 240,
  };
}

export async function writeStudyReport(config: StudyConfig, results: readonly CellResult[]): Promise<StudyReportFiles> {
  const rows = groupResults(results);
  const plotsDir = path.join(config.out, 'plots');
  await mkdir(plotsDir, { recursive: true });

  const plots: string[] = [];
  const render = async (spec: TopLevelSpec, name: string) => {
    const files = await renderChart(spec, path.join(plotsDir, name));
    plots.push(files.svg, files.png);
  };
  if (rows.some((row) => row.perplexity.length > 0)) await render(perplexitySpec(rows), 'perplexity');
  if (config.tasks.length > 0) await render(accuracySpec(rows, config.tasks), 'accuracy');
  if (config.sparsities.length > 1) await render(sweepSpec(rows), 'sparsity-sweep');

  let markdown = markdownReport(config, rows, taskScorings(results));
  if (plots.length > 0) {
    markdown += `\n## Plots\n\n${plots.filter((file) => file.endsWith('.svg')).map((file) => `![${path.basename(file, '.svg')}](plots/${path.basename(file)})`).join('\n\n')}\n`;
  }
  const markdownPath = path.join(config.out, 'report.md');
  const jsonPath = path.join(config.out, 'report.json');
  await writeFileAtomic(markdownPath, markdown);
  await writeFileAtomic(jsonPath, `${JSON.stringify({ rows, results }, null, 2)}\n`);
  return { markdown: markdownPath, json: jsonPath, plots };
}
