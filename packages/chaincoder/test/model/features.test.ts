import { describe, expect, it } from 'vitest';
import { describeDropped } from '../../src/model/features.js';

describe('describeDropped', () => {
  it('counts zero drops', () => {
    expect(describeDropped({ problems: 4, programs: 8, droppedPrograms: {}, droppedProblems: 0 })).toBe('0 programs dropped, 0 problems dropped');
  });

  it('lists drop reasons', () => {
    const report = { problems: 4, programs: 8, droppedPrograms: { syntax: 2, pool: 1 }, droppedProblems: 1 };
    expect(describeDropped(report)).toBe('3 programs dropped (syntax: 2, pool: 1), 1 problem dropped');
  });
});
