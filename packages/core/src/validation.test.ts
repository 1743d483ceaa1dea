import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UsageError } from './errors.js';
import { parseWithSchema } from './validation.js';

const schema = z.object({
  sparsity: z.number().min(0).max(1),
  pattern: z.enum(['unstructured', '2:4', '4:8']).default('unstructured'),
  schedule: z.object({ firstLayer: z.number().int().nonnegative() }).optional(),
});

function messageOf(input: unknown): string {
  try {
    parseWithSchema(schema, input, 'Invalid options for pruner "wanda"');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected parseWithSchema to throw');
}

describe('parseWithSchema', () => {
  it('returns parsed output with defaults', () => {
    expect(parseWithSchema(schema, { sparsity: 0.5 }, 'x')).toEqual({ sparsity: 0.5, pattern: 'unstructured' });
  });

  it('names option, value and bound', () => {
    const message = messageOf({ sparsity: 1.5 });
    expect(message).toContain('Invalid options for pruner "wanda":');
    expect(message).toContain('sparsity: got 1.5, expected a value <= 1');
  });

  it('lists allowed enum values', () => {
    expect(messageOf({ sparsity: 0.5, pattern: '3:4' })).toContain(
      'pattern: got "3:4", expected one of "unstructured", "2:4", "4:8"',
    );
  });

  it('reports missing required options', () => {
    expect(messageOf({})).toContain('sparsity: missing, expected number');
  });

  it('rejects misspelt keys and lists allowed ones', () => {
    const message = messageOf({ sparsity: 0.5, sparsty: 0.2 });
    expect(message).toContain('unknown option "sparsty" (allowed: sparsity, pattern, schedule)');
  });

  it('reports nested paths', () => {
    const message = messageOf({ sparsity: 0.5, schedule: { firstLayer: -1, lastLayer: 3 } });
    expect(message).toContain('schedule.firstLayer: got -1, expected a value >= 0');
    expect(message).toContain('unknown option "schedule.lastLayer" (allowed: firstLayer)');
  });
});
