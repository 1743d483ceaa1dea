/**
 * HumanEval (Chen et al., 2021), `HumanEval.jsonl` rows with `task_id`,
 * `prompt` (signature and docstring), `canonical_solution` (the body),
 * `test` (defines `check(candidate)`) and `entry_point`. The prompt plus the
 * body is run through `check` in the sandbox to record I/O tests.
 * HumanEval is an evaluation set: every problem is in the test split.
 */
import { InputError, getLogger } from '@sculpt/core';
import { readRecords } from '../io/read-records.js';
import { divideTests, recordCalls, ReferenceFailure, withStdinDriver } from './function-style.js';
import type { CodeProblem, LoadReport, PythonRunner } from './types.js';

const log = getLogger('datasets:humaneval');

/** The docstring of the entry point, used as the description. */
function docstringOf(prompt: string): string {
  const match = /("""|''')([\s\S]*?)\1/u.exec(prompt);
  return (match?.[2] ?? prompt).replace(/^\s+|\s+$/gu, '').replace(/\n\s{4}/gu, '\n');
}

export async function loadHumanEval(files: string[], runner: PythonRunner, signal?: AbortSignal): Promise<{ problems: CodeProblem[]; report: LoadReport }> {
  const problems: CodeProblem[] = [];
  const dropped: Record<string, number> = {};
  type Row = { task_id?: string; prompt?: string; canonical_solution?: string; test?: string; entry_point?: string };
  const rows: { row: Row; file: string; index: number }[] = [];
  for (const file of files) {
    for await (const record of readRecords(file, { signal })) rows.push({ row: record.value as Row, file, index: record.index });
  }
  const drop = (reason: string): void => {
    dropped[reason] = (dropped[reason] ?? 0) + 1;
  };
  // The runner bounds concurrency, so every conversion can be started at once; results keep file order.
  const converted = await Promise.all(
    rows.map(async ({ row, file, index }): Promise<CodeProblem | undefined> => {
      if (typeof row.prompt !== 'string' || typeof row.canonical_solution !== 'string' || typeof row.test !== 'string' || typeof row.entry_point !== 'string') {
        throw new InputError(`record ${index} lacks prompt, canonical_solution, test or entry_point; is this HumanEval.jsonl?`, file);
      }
      const id = `humaneval/${String(row.task_id).replace(/^HumanEval\//u, '')}`;
      const solution = row.prompt + row.canonical_solution;
      try {
        const recorded = await recordCalls(runner, { solution, entryPoint: row.entry_point, harness: { kind: 'check', code: row.test } });
        if (recorded.tests.length === 0) {
          drop('no literal calls to record');
          return undefined;
        }
        const { examples, hidden } = divideTests(recorded.tests);
        return {
          id,
          source: 'humaneval',
          split: 'test',
          style: 'call-based',
          description: docstringOf(row.prompt),
          examples,
          tests: hidden,
          solutions: [withStdinDriver(solution, row.entry_point)],
          entryPoint: row.entry_point,
          origin: file,
        };
      } catch (error) {
        if (!(error instanceof ReferenceFailure)) throw error;
        drop('reference solution failed in the sandbox');
        log.debug(() => `Dropped HumanEval problem ${id}: ${error.message}`);
        return undefined;
      }
    }),
  );
  for (const problem of converted) if (problem) problems.push(problem);
  return { problems, report: { kept: problems.length, dropped } };
}
