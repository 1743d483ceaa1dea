import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { getLogger, setLogLevel, setLogSink, stderrSink, type LogRecord } from '../logger.js';
import { createProgressReporter } from './index.js';
import { LineProgressReporter } from './lines.js';
import { SilentProgressReporter } from './reporter.js';
import { TtyProgressReporter } from './tty.js';

afterEach(() => {
  setLogSink(stderrSink);
  setLogLevel('silent');
});

function captureLogs(): LogRecord[] {
  const records: LogRecord[] = [];
  setLogSink((record) => records.push(record));
  setLogLevel('info');
  return records;
}

describe('LineProgressReporter', () => {
  it('prints every N percent and at the end', () => {
    const records = captureLogs();
    let now = 0;
    const reporter = new LineProgressReporter({ everyPercent: 25, everySeconds: 1000, now: () => now });
    const task = reporter.start({ label: 'prune', total: 8, unit: 'layers' });
    for (let i = 1; i <= 8; i++) {
      now += 500;
      task.increment();
    }
    task.finish();
    task.increment();
    expect(records.map((r) => r.message)).toEqual([
      'prune: 2/8 layers (25%, 1.0 s)',
      'prune: 4/8 layers (50%, 2.0 s)',
      'prune: 6/8 layers (75%, 3.0 s)',
      'prune: 8/8 layers (100%, 4.0 s)',
      'prune: 8/8 layers (done, 4.0 s)',
    ]);
  });

  it('prints after N seconds without progress steps', () => {
    const records = captureLogs();
    let now = 0;
    const reporter = new LineProgressReporter({ everyPercent: 50, everySeconds: 10, now: () => now });
    const task = reporter.start({ label: 'eval', total: 1000 });
    now = 5_000;
    task.update(1);
    now = 11_000;
    task.update(2);
    expect(records.map((r) => r.message)).toEqual(['eval: 2/1000 (0%, 11.0 s)']);
  });

  it('finishes open tasks on close', () => {
    const records = captureLogs();
    const reporter = new LineProgressReporter({ now: () => 0 });
    reporter.start({ label: 'a', total: 3 }).update(1);
    reporter.close();
    expect(records.map((r) => r.message)).toEqual(['a: 1/3 (33%, 0.0 s)', 'a: 1/3 (stopped, 0.0 s)']);
  });
});

describe('TtyProgressReporter', () => {
  function fakeTerminal() {
    const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number };
    stream.isTTY = true;
    stream.columns = 100;
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
  }

  it('draws a bar and routes logs above it', () => {
    const terminal = fakeTerminal();
    const records: LogRecord[] = [];
    setLogSink((record) => records.push(record));
    setLogLevel('info');
    const reporter = new TtyProgressReporter(terminal.stream);
    const task = reporter.start({ label: 'calibrate', total: 4, unit: 'batches' });
    task.update(2);
    getLogger('test').info('while the bar is shown');
    task.finish();
    reporter.close();

    // The record went to the bar's log, not to the sink that was active before.
    expect(records).toEqual([]);
    expect(terminal.text()).toContain('[info] test: while the bar is shown');
    expect(terminal.text()).toContain('calibrate');
    expect(terminal.text()).toContain('calibrate: stopped (2/4 batches)');

    // After the last bar, logging goes back to the previous sink.
    getLogger('test').info('after');
    expect(records.map((r) => r.message)).toEqual(['after']);
  });
});

describe('TtyProgressReporter with two bars', () => {
  it('keeps the terminal until the last bar ends', () => {
    const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number };
    stream.isTTY = true;
    stream.columns = 100;
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const records: LogRecord[] = [];
    setLogSink((record) => records.push(record));
    setLogLevel('info');

    const reporter = new TtyProgressReporter(stream as unknown as NodeJS.WriteStream);
    const outer = reporter.start({ label: 'blocks', total: 2 });
    const inner = reporter.start({ label: 'layers', total: 3, unit: 'layers' });
    inner.update(3);
    inner.finish();
    getLogger('test').info('between');
    outer.update(2);
    outer.finish();

    expect(text).toContain('layers: done (3/3 layers)');
    expect(text).toContain('[info] test: between');
    expect(text).toContain('blocks: done (2/2)');
    expect(records).toEqual([]);
    reporter.close();
  });
});

describe('createProgressReporter', () => {
  it('is silent for --json and under vitest', () => {
    expect(createProgressReporter({ json: true })).toBeInstanceOf(SilentProgressReporter);
    expect(createProgressReporter()).toBeInstanceOf(SilentProgressReporter);
  });

  it('picks lines for a non-terminal outside tests', () => {
    const saved = process.env.VITEST;
    delete process.env.VITEST;
    try {
      const stream = new PassThrough() as unknown as NodeJS.WriteStream;
      expect(createProgressReporter({ stream })).toBeInstanceOf(LineProgressReporter);
    } finally {
      process.env.VITEST = saved;
    }
  });
});
