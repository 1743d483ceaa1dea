/**
 * Runs an evaluation task against a language model. Generation-based scoring
 * decodes greedily (the reference inherited sampling from the checkpoint's
 * generation config; sculpt does not). Log-likelihood scoring picks the answer
 * choice with the highest summed log-probability after the prompt.
 */
import { InputError, throwIfAborted, UsageError } from '@sculpt/core';
import { summarizeAccuracy, type AccuracySummary } from './metrics.js';
import type { EvalTask, TaskItem } from './tasks.js';

/** What an evaluation needs from a model; an adapter wraps a runtime model and its tokenizer. */
export interface TaskModel {
  /** Greedy continuation of `prompt` (tokenized with BOS), at most `maxNewTokens`, stopping once `stopSequence` appears. */
  generate(prompt: string, options: { maxNewTokens: number; stopSequence?: string }): Promise<string>;
  /** Σ log p(continuation tokens | context). */
  logLikelihood?(context: string, continuation: string): Promise<number>;
}

export type TaskScoring = 'generate' | 'loglikelihood';

/**
 * A scoring request: one of the two scorings, or `auto`, which scores a task by
 * log-likelihood when every item has answer choices (the classification tasks)
 * and by generation otherwise (the arithmetic tasks). Small models rarely
 * produce a well-formed answer, so log-likelihood gives them a usable signal.
 */
export type ScoringRequest = TaskScoring | 'auto';

export interface TaskItemResult {
  id: string;
  label: string;
  prediction: string;
  correct: boolean;
}

export interface TaskResult {
  task: string;
  scoring: TaskScoring;
  /** Always "greedy" for generation; recorded because the Llama-2-chat runs of Bandari et al. (EMNLP 2024) sampled. */
  decoding: 'greedy' | 'none';
  summary: AccuracySummary;
  items: TaskItemResult[];
}

export interface TaskRunOptions {
  limit?: number;
  scoring?: ScoringRequest;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The first `limit` items; the order is the data file's, so runs are comparable. */
export function selectItems(items: TaskItem[], limit: number | undefined): TaskItem[] {
  if (limit === undefined) return items;
  if (!(Number.isInteger(limit) && limit > 0)) throw new InputError(`--limit must be a positive integer, got ${limit}`);
  return items.slice(0, limit);
}

export async function runTask(task: EvalTask, model: TaskModel, items: TaskItem[], options: TaskRunOptions = {}): Promise<TaskResult> {
  const selected = selectItems(items, options.limit);
  const scoring = resolveScoring(options.scoring ?? 'generate', selected, model);
  if (scoring === 'loglikelihood' && !selected.every(hasChoices)) {
    throw new UsageError(`task ${task.name} has no answer choices, so it cannot be scored by log-likelihood; use generate or auto scoring`);
  }
  if (scoring === 'loglikelihood' && model.logLikelihood === undefined) {
    throw new InputError('this model cannot score log-likelihoods; use generation scoring');
  }

  const results: TaskItemResult[] = [];
  for (const item of selected) {
    throwIfAborted(options.signal);
    const prompt = task.buildPrompt(item);
    let prediction: string;
    if (scoring === 'generate') {
      const generation = await model.generate(prompt, { maxNewTokens: task.maxNewTokens, stopSequence: task.stopSequence });
      prediction = task.extractAnswer(generation);
    } else {
      prediction = await bestChoice(task, model, prompt, item);
    }
    results.push({ id: item.id, label: item.label, prediction, correct: task.isCorrect(prediction, item.label) });
    options.onProgress?.(results.length, selected.length);
  }

  const correct = results.filter((result) => result.correct).length;
  return {
    task: task.name,
    scoring,
    decoding: scoring === 'generate' ? 'greedy' : 'none',
    summary: summarizeAccuracy(correct, results.length),
    items: results,
  };
}

/** Tells whether an item can be scored by log-likelihood: it has at least one answer choice. */
function hasChoices(item: TaskItem): boolean {
  return item.choices !== undefined && item.choices.length > 0;
}

/** Resolves a scoring request to the scoring used for these items and this model. */
export function resolveScoring(request: ScoringRequest, items: readonly TaskItem[], model: TaskModel): TaskScoring {
  if (request !== 'auto') return request;
  const classification = items.length > 0 && items.every(hasChoices);
  return classification && model.logLikelihood !== undefined ? 'loglikelihood' : 'generate';
}

async function bestChoice(task: EvalTask, model: TaskModel, prompt: string, item: TaskItem): Promise<string> {
  if (item.choices === undefined) throw new InputError(`task ${task.name} has no answer choices; log-likelihood scoring needs a classification task`);
  let best = -Infinity;
  let bestIndex = 0;
  for (let i = 0; i < item.choices.length; i++) {
    const score = await model.logLikelihood!(prompt, item.choices[i]);
    if (score > best) {
      best = score;
      bestIndex = i;
    }
  }
  return item.choices[bestIndex].trim();
}
