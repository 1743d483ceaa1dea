import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseStatement } from './statement.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const dataDir = resolve(repoRoot, '../shared/data');

describe('parseStatement', () => {
  it('reads the APPS example section', async () => {
    const statement = await readFile(resolve(dataDir, 'apps/APPS/train/0001/question.txt'), 'utf8');
    const parsed = parseStatement(statement);
    expect(parsed.examples).toEqual([{ input: '3\n2 2 3\n4 3 7\n10 1 9\n', output: '1\n6\n-1\n' }]);
    expect(parsed.description).toContain('-----Output-----');
    expect(parsed.description).not.toContain('-----Example-----');
    expect(parsed.description).not.toContain('One of the possible answers');
  });

  it('reads several CodeContests examples', () => {
    const statement = 'Sum two numbers.\n\nExamples\n\nInput\n\n1 2\n\nOutput\n\n3\n\nInput\n\n5 5\n\n\nOutput\n\n10\n\nNote\n\nEasy.';
    expect(parseStatement(statement)).toEqual({
      description: 'Sum two numbers.',
      examples: [
        { input: '1 2\n', output: '3\n' },
        { input: '5 5\n', output: '10\n' },
      ],
    });
  });

  it('reads AtCoder sample headers', () => {
    const statement = 'Print N.\n-----Sample Input 1-----\n4\n\n-----Sample Output 1-----\n4\n\n-----Sample Input 2-----\n7\n\n-----Sample Output 2-----\n7\n';
    expect(parseStatement(statement).examples).toEqual([
      { input: '4\n', output: '4\n' },
      { input: '7\n', output: '7\n' },
    ]);
  });

  it('returns no examples when there is no section', () => {
    expect(parseStatement('  Just a task.  ')).toEqual({ description: 'Just a task.', examples: [] });
  });
});
