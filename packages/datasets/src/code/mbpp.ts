/**
 * MBPP (Austin et al., 2021), `mbpp.jsonl` rows with `task_id`, `text`,
 * `code`, `test_list` (assert statements), `test_setup_code`. The reference
 * solution is run through its asserts in the sandbox to record I/O tests.
 *
 * Splits follow the MBPP release by task id: 1–10 prompting examples (used
 * as train here), 11–510 test, 511–600 validation, 601–974 train.
 */
import { InputError, getLogger } from '@sculpt/core';
import { readRecords } from '../io/read-records.js';
import { divideTests, recordCalls, ReferenceFailure, withStdinDriver } from './function-style.js';
import type { CodeProblem, CodeSplit, LoadReport, PythonRunner } from './types.js';

const log = getLogger('datasets:mbpp');

export function mbppSplit(taskId: number): CodeSplit {
  if (taskId >= 11 && taskId <= 510) return 'test';
  if (taskId >= 511 && taskId <= 600) return 'validation';
  return 'train';
}

/** The function the asserts call: the first name called in the first assert. */
export function assertedFunctionName(assertion: string): string | undefined {
  return /assert\s*\(?\s*(?:not\s+)?(?:set\s*\(|sorted\s*\(|math\.isclose\s*\()?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(/u.exec(assertion)?.[1];
}

export async function loadMbpp(files: string[], runner: PythonRunner, signal?: AbortSignal): Promise<{ problems: CodeProblem[]; report: LoadReport }> {
  const problems: CodeProblem[] = [];
  const dropped: Record<string, number> = {};
  const drop = (reason: string, id: string, detail = ''): void => {
    dropped[reason] = (dropped[reason] ?? 0) + 1;
    log.debug(() => `Dropped MBPP problem ${id}: ${reason} ${detail}`);
  };
  type Row = { task_id?: number; text?: string; code?: string; test_list?: string[]; test_setup_code?: string };
  const rows: { row: Row; file: string; index: number }[] = [];
  for (const file of files) {
    for await (const record of readRecords(file, { signal })) rows.push({ row: record.value as Row, file, index: record.index });
  }
  // The runner bounds concurrency, so every conversion can be started at once; results keep file order.
  const converted = await Promise.all(
    rows.map(async ({ row, file, index }): Promise<CodeProblem | undefined> => {
      if (typeof row.task_id !== 'number' || typeof row.code !== 'string' || !Array.isArray(row.test_list)) {
        throw new InputError(`record ${index} lacks task_id, code or test_list; is this mbpp.jsonl?`, file);
      }
      const id = `mbpp/${row.task_id}`;
      const entryPoint = assertedFunctionName(row.test_list[0] ?? '');
      if (entryPoint === undefined) {
        drop('no function call found in the asserts', id);
        return undefined;
      }
      // MBPP sources use CRLF line ends.
      const solution = row.code.replace(/\r\n/gu, '\n');
      try {
        const recorded = await recordCalls(runner, {
          solution,
          entryPoint,
          harness: { kind: 'asserts', setup: row.test_setup_code ?? '', asserts: row.test_list },
        });
        if (recorded.tests.length === 0) {
          drop('no literal calls to record', id);
          return undefined;
        }
        const { examples, hidden } = divideTests(recorded.tests);
        return {
          id,
          source: 'mbpp',
          split: mbppSplit(row.task_id),
          style: 'call-based',
          description: String(row.text ?? ''),
          examples,
          tests: hidden,
          solutions: [withStdinDriver(solution, entryPoint)],
          entryPoint,
          origin: file,
        };
      } catch (error) {
        if (!(error instanceof ReferenceFailure)) throw error;
        drop('reference solution failed in the sandbox', id, error.message);
        return undefined;
      }
    }),
  );
  for (const problem of converted) if (problem) problems.push(problem);
  return { problems, report: { kept: problems.length, dropped } };
}
