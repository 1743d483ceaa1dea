/** Events a running pipeline emits, in order, to its listener. */
import type { LogLevel } from '../logger.js';

/** Steps of nested pipelines are named by their path, `prune/score-layers`. */
export type PipelineEvent =
  | { type: 'step-start'; step: string; index: number; count: number; time: number }
  | { type: 'progress'; step: string; done: number; total: number; unit?: string }
  | { type: 'log'; step: string; level: Exclude<LogLevel, 'silent'>; message: string; fields?: Record<string, unknown> }
  | { type: 'step-end'; step: string; index: number; durationMs: number }
  | { type: 'error'; step: string; error: Error; aborted: boolean };

export type PipelineListener = (event: PipelineEvent) => void;
