/**
 * Progress as plain log lines, for output that is not a terminal (CI logs,
 * files): one info record whenever the task crosses another `everyPercent`
 * or `everySeconds` have passed, and one at the end.
 */
import { getLogger, type Logger } from '../logger.js';
import { BaseTask, type ProgressReporter, type ProgressTask, type ProgressTaskOptions } from './reporter.js';

export interface LineProgressOptions {
  /** Percent step between lines (default 10). */
  everyPercent?: number;
  /** Seconds between lines when the percentage moves slowly (default 30). */
  everySeconds?: number;
  logger?: Logger;
  /** Clock in milliseconds; tests pass a fake one. */
  now?: () => number;
}

class LineTask extends BaseTask {
  private lastPercent = 0;
  private lastTime: number;
  private readonly startTime: number;

  constructor(
    options: ProgressTaskOptions,
    private readonly settings: Required<LineProgressOptions>,
    private readonly onClose: (task: LineTask) => void,
  ) {
    super(options);
    this.startTime = settings.now();
    this.lastTime = this.startTime;
  }

  protected render(final: boolean): void {
    const now = this.settings.now();
    const percent = this.total > 0 ? (100 * this.done) / this.total : 0;
    const stepReached = Math.floor(percent / this.settings.everyPercent) > Math.floor(this.lastPercent / this.settings.everyPercent);
    const timeReached = now - this.lastTime >= this.settings.everySeconds * 1000;
    if (!final && !stepReached && !timeReached) return;

    this.lastPercent = percent;
    this.lastTime = now;
    const unit = this.options.unit ? ` ${this.options.unit}` : '';
    const elapsed = ((now - this.startTime) / 1000).toFixed(1);
    let status = `${percent.toFixed(0)}%`;
    if (final) status = this.done >= this.total ? 'done' : 'stopped';
    this.settings.logger.info(`${this.options.label}: ${this.done}/${this.total}${unit} (${status}, ${elapsed} s)`);
    if (final) this.onClose(this);
  }
}

export class LineProgressReporter implements ProgressReporter {
  private readonly settings: Required<LineProgressOptions>;
  private readonly open = new Set<LineTask>();

  constructor(options: LineProgressOptions = {}) {
    this.settings = {
      everyPercent: options.everyPercent ?? 10,
      everySeconds: options.everySeconds ?? 30,
      logger: options.logger ?? getLogger('progress'),
      now: options.now ?? (() => Date.now()),
    };
  }

  start(options: ProgressTaskOptions): ProgressTask {
    const task = new LineTask(options, this.settings, (closed) => this.open.delete(closed));
    this.open.add(task);
    return task;
  }

  close(): void {
    for (const task of [...this.open]) task.finish();
  }
}
