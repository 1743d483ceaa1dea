/**
 * Progress reporting for long work (pruning layers, evaluating tasks,
 * training steps). Library code reports through the ProgressReporter
 * interface, and the CLI picks how it shows: a live bar on a terminal, plain
 * periodic lines in CI logs, nothing with --json or in tests.
 */

export interface ProgressTaskOptions {
  /** Short label shown before the bar or in each line ("prune layers"). */
  label: string;
  total: number;
  /** Unit of the count ("layers", "samples", "tokens"). */
  unit?: string;
}

export interface ProgressTask {
  /** Sets the absolute count of finished units (and optionally a new total). */
  update(done: number, total?: number): void;
  /** Adds to the count of finished units. */
  increment(units?: number): void;
  /** Marks the task finished and removes its bar. Further updates are ignored. */
  finish(): void;
}

export interface ProgressReporter {
  start(options: ProgressTaskOptions): ProgressTask;
  /** Finishes every open task and releases the terminal. */
  close(): void;
}

/** Shared bookkeeping: clamps counts and turns finish() into a one-shot. */
export abstract class BaseTask implements ProgressTask {
  protected done = 0;
  protected total: number;
  protected closed = false;

  constructor(protected readonly options: ProgressTaskOptions) {
    this.total = Math.max(0, options.total);
  }

  update(done: number, total?: number): void {
    if (this.closed) return;
    if (total !== undefined) this.total = Math.max(0, total);
    this.done = Math.max(0, done);
    this.render(false);
  }

  increment(units = 1): void {
    this.update(this.done + units);
  }

  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.render(true);
  }

  protected abstract render(final: boolean): void;
}

class SilentTask extends BaseTask {
  protected render(): void {}
}

/** Reports nothing: for --json output and tests. */
export class SilentProgressReporter implements ProgressReporter {
  start(options: ProgressTaskOptions): ProgressTask {
    return new SilentTask(options);
  }

  close(): void {}
}
