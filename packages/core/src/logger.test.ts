import { afterEach, describe, expect, it } from 'vitest';
import { getLogger, setLogLevel, setLogSink, shouldPrintShader, stderrSink, type LogRecord } from './logger.js';

describe('logger', () => {
  afterEach(() => {
    setLogSink(stderrSink);
    setLogLevel('silent');
  });

  it('filters records below the level', () => {
    const records: LogRecord[] = [];
    setLogSink((r) => records.push(r));
    setLogLevel('warn');
    const log = getLogger('test');
    log.info('hidden');
    log.warn('shown', { layer: 3 });
    expect(records.map((r) => r.message)).toEqual(['shown']);
    expect(records[0].fields).toEqual({ layer: 3 });
  });

  it('calls lazy messages only when enabled', () => {
    setLogSink(() => {});
    setLogLevel('info');
    let calls = 0;
    getLogger('test').debug(() => {
      calls += 1;
      return 'expensive';
    });
    expect(calls).toBe(0);
  });

  it('matches shader names from SCULPT_PRINT_SHADER', () => {
    process.env.SCULPT_PRINT_SHADER = 'matmul,softmax';
    expect(shouldPrintShader('matmul_vec4')).toBe(true);
    expect(shouldPrintShader('cholesky')).toBe(false);
    delete process.env.SCULPT_PRINT_SHADER;
  });
});
