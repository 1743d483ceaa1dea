/**
 * Top-level execution of a pipeline as a recorded run: progress events go to
 * a ProgressReporter, and a run manifest is written to the output directory
 * when the run ends, whether it succeeded, failed or was aborted.
 */
import { writeRunManifest, type DeviceInfo } from '../config/manifest.js';
import type { JsonValue } from '../config/config.js';
import { AbortError } from '../errors.js';
import type { ProgressReporter, ProgressTask } from '../progress/reporter.js';
import type { RunContext } from './context.js';
import type { PipelineEvent, PipelineListener } from './events.js';
import { runPipeline, type Step } from './pipeline.js';

/** Turns `progress` events into one progress task per step, finished at the step's end. */
export function progressListener(reporter: ProgressReporter): PipelineListener {
  const tasks = new Map<string, ProgressTask>();
  return (event: PipelineEvent) => {
    switch (event.type) {
      case 'progress': {
        let task = tasks.get(event.step);
        if (!task) {
          task = reporter.start({ label: event.step, total: event.total, unit: event.unit });
          tasks.set(event.step, task);
        }
        task.update(event.done, event.total);
        break;
      }
      case 'step-end':
      case 'error':
        tasks.get(event.step)?.finish();
        tasks.delete(event.step);
        break;
      case 'step-start':
      case 'log':
        break;
      default:
        event satisfies never;
    }
  };
}

export interface ExecuteOptions {
  signal?: AbortSignal;
  onEvent?: PipelineListener;
  progress?: ProgressReporter;
  /** Device details for the manifest; defaults to the run context's device name. */
  device?: DeviceInfo;
  /** More seeds than the run seed (named streams), for the manifest. */
  seeds?: Record<string, number>;
  extra?: Record<string, JsonValue>;
}

/**
 * Runs the pipeline and, when `run.outputDir` is set, writes the run manifest
 * there at the end. The manifest records status 'failed' or 'aborted' with the
 * error message when the run throws (the error is rethrown).
 */
export async function executeRun<In, Out>(target: Step<In, Out>, input: In, run: RunContext, options: ExecuteOptions = {}): Promise<Out> {
  const startedAt = new Date();
  const toProgress = options.progress ? progressListener(options.progress) : undefined;
  const onEvent: PipelineListener = (event) => {
    toProgress?.(event);
    options.onEvent?.(event);
  };
  const writeManifest = async (status: 'done' | 'failed' | 'aborted', error?: Error) => {
    if (run.outputDir === undefined) return;
    await writeRunManifest(run.outputDir, {
      resolvedConfig: run.config,
      device: options.device ?? { kind: run.device },
      seeds: { run: run.seed, ...options.seeds },
      startedAt,
      endedAt: new Date(),
      status,
      ...(error ? { error: error.message } : {}),
      extra: { pipeline: target.name, ...options.extra },
    });
  };

  let output: Out;
  try {
    output = await runPipeline(target, input, run, { signal: options.signal, onEvent });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    await writeManifest(failure instanceof AbortError ? 'aborted' : 'failed', failure);
    throw failure;
  }
  await writeManifest('done');
  return output;
}
