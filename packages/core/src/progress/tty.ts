/**
 * Live progress bars on a terminal (cli-progress). While bars are shown, log
 * records are printed above them through the bar's own log method, because a
 * plain stderr write would tear the bar being redrawn.
 */
import cliProgress from 'cli-progress';
import { setLogSink, type LogSink } from '../logger.js';
import { BaseTask, type ProgressReporter, type ProgressTask, type ProgressTaskOptions } from './reporter.js';

class BarTask extends BaseTask {
  constructor(
    options: ProgressTaskOptions,
    private readonly bar: cliProgress.SingleBar,
    private readonly onClose: (task: BarTask, done: number, total: number) => void,
  ) {
    super(options);
  }

  protected render(final: boolean): void {
    this.bar.setTotal(this.total);
    this.bar.update(this.done);
    if (final) {
      this.bar.stop();
      this.onClose(this, this.done, this.total);
    }
  }
}

export class TtyProgressReporter implements ProgressReporter {
  private multibar?: cliProgress.MultiBar;
  private previousSink?: LogSink;
  private readonly open = new Map<BarTask, cliProgress.SingleBar>();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  private ensureBars(): cliProgress.MultiBar {
    if (this.multibar) return this.multibar;
    const multibar = new cliProgress.MultiBar(
      {
        stream: this.stream,
        format: '{label} [{bar}] {percentage}% | {value}/{total} {unit} | {duration_formatted} | eta {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.multibar = multibar;
    this.previousSink = setLogSink((record) => {
      const fields = record.fields && Object.keys(record.fields).length > 0 ? ` ${JSON.stringify(record.fields)}` : '';
      multibar.log(`[${record.level}] ${record.scope}: ${record.message}${fields}\n`);
    });
    return multibar;
  }

  start(options: ProgressTaskOptions): ProgressTask {
    const bar = this.ensureBars().create(Math.max(0, options.total), 0, { label: options.label, unit: options.unit ?? '' });
    const task = new BarTask(options, bar, (closed, done, total) => {
      this.multibar?.remove(bar);
      this.open.delete(closed);
      // A finished bar is replaced by one plain line, so the terminal keeps a record of what ran.
      const status = done >= total ? 'done' : 'stopped';
      const unit = options.unit ? ` ${options.unit}` : '';
      const line = `${options.label}: ${status} (${done}/${total}${unit})`;
      if (this.open.size > 0) {
        this.multibar?.log(`${line}\n`);
        return;
      }
      this.releaseTerminal();
      this.stream.write(`${line}\n`);
    });
    this.open.set(task, bar);
    return task;
  }

  private releaseTerminal(): void {
    this.multibar?.stop();
    this.multibar = undefined;
    if (this.previousSink) setLogSink(this.previousSink);
    this.previousSink = undefined;
  }

  close(): void {
    for (const task of [...this.open.keys()]) task.finish();
    this.releaseTerminal();
  }
}
