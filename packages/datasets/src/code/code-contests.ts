/**
 * CodeContests (Li et al., 2022). Two layouts are read:
 * - the Hugging Face rows of `deepmind/code_contests` (.parquet, .jsonl or
 *   .json): `name`, `description`, `public_tests`, `private_tests`,
 *   `generated_tests` (each `{input: [...], output: [...]}`), `solutions`
 *   (`{language: [...], solution: [...]}`, language 3 = Python 3) and
 *   `difficulty`;
 * - CodeT's derived prompts (`task_id`, `prompt` holding the statement in a
 *   docstring, `meta_data`), which ship neither tests nor solutions. Those
 *   problems can be generated for but not scored.
 *
 * The file name decides the split (`train`, `valid`/`validation`, `test`);
 * CodeT's prompts are the CodeContests test split.
 */
import { basename } from 'node:path';
import { InputError } from '@sculpt/core';
import { readRecords } from '../io/read-records.js';
import { parseStatement } from './statement.js';
import { MAX_PROMPT_EXAMPLES, type CodeProblem, type CodeSplit, type IoExample, type LoadReport } from './types.js';

/** `solutions.language` value of Python 3 in CodeContests' Problem proto. */
export const PYTHON3_LANGUAGE = 3;

export interface CodeContestsOptions {
  files: string[];
  /** Score with generated tests too, as the CodeContests paper does for its test split. */
  includeGeneratedTests: boolean;
  maxSolutions: number;
  signal?: AbortSignal;
}

function splitFromFileName(file: string): CodeSplit | undefined {
  // Whole words only: "code_contests_train" is a train file although "contests" contains "test".
  const words = new Set(basename(file).toLowerCase().split(/[^a-z]+/u));
  if (words.has('test') || words.has('codet')) return 'test';
  if (words.has('valid') || words.has('validation')) return 'validation';
  if (words.has('train')) return 'train';
  return undefined;
}

function testsOf(value: unknown): IoExample[] {
  if (value === null || typeof value !== 'object') return [];
  const { input, output } = value as { input?: unknown; output?: unknown };
  if (!Array.isArray(input) || !Array.isArray(output)) return [];
  const count = Math.min(input.length, output.length);
  const tests: IoExample[] = [];
  for (let index = 0; index < count; index++) {
    if (typeof input[index] === 'string' && typeof output[index] === 'string') {
      tests.push({ input: input[index] as string, output: output[index] as string });
    }
  }
  return tests;
}

function pythonSolutions(value: unknown, limit: number): string[] {
  if (value === null || typeof value !== 'object') return [];
  const { language, solution } = value as { language?: unknown; solution?: unknown };
  if (!Array.isArray(language) || !Array.isArray(solution)) return [];
  return solution.filter((source, index) => Number(language[index]) === PYTHON3_LANGUAGE && typeof source === 'string').slice(0, limit) as string[];
}

/** Extracts the statement from CodeT's prompt: its first triple-quoted block. */
function codetStatement(prompt: string): string {
  const match = /'''([\s\S]*?)'''|"""([\s\S]*?)"""/u.exec(prompt);
  return (match?.[1] ?? match?.[2] ?? prompt).trim();
}

function fromHuggingFace(row: Record<string, unknown>, split: CodeSplit, file: string, options: CodeContestsOptions): CodeProblem {
  const name = String(row.name ?? '');
  const parsed = parseStatement(String(row.description ?? ''));
  const publicTests = testsOf(row.public_tests);
  const hidden = [...testsOf(row.private_tests), ...(options.includeGeneratedTests ? testsOf(row.generated_tests) : [])];
  return {
    id: `code_contests/${split}/${name}`,
    source: 'code_contests',
    split,
    style: 'stdin',
    description: parsed.description,
    examples: (publicTests.length > 0 ? publicTests : parsed.examples).slice(0, MAX_PROMPT_EXAMPLES),
    tests: hidden,
    solutions: pythonSolutions(row.solutions, options.maxSolutions),
    difficulty: row.difficulty === undefined ? undefined : String(row.difficulty),
    origin: file,
  };
}

function fromCodet(row: Record<string, unknown>, file: string): CodeProblem {
  const meta = (row.meta_data ?? {}) as { task_name?: string; difficulty?: unknown };
  const parsed = parseStatement(codetStatement(String(row.prompt ?? '')));
  return {
    id: `code_contests/test/${meta.task_name ?? String(row.task_id)}`,
    source: 'code_contests',
    split: 'test',
    style: 'stdin',
    description: parsed.description,
    examples: parsed.examples.slice(0, MAX_PROMPT_EXAMPLES),
    tests: [],
    solutions: [],
    difficulty: meta.difficulty === undefined ? undefined : String(meta.difficulty),
    origin: file,
  };
}

export async function loadCodeContests(options: CodeContestsOptions): Promise<{ problems: CodeProblem[]; report: LoadReport }> {
  if (options.files.length === 0) throw new InputError('no CodeContests files given; pass the split files in `files`');
  const problems: CodeProblem[] = [];
  const dropped: Record<string, number> = {};
  for (const file of options.files) {
    for await (const record of readRecords(file, { signal: options.signal })) {
      const row = record.value as Record<string, unknown>;
      if (typeof row.prompt === 'string' && row.description === undefined) {
        problems.push(fromCodet(row, file));
        continue;
      }
      if (typeof row.description !== 'string') {
        throw new InputError(`record ${record.index} has neither "description" nor a CodeT "prompt"; is this a CodeContests file?`, file);
      }
      const split = splitFromFileName(file);
      if (split === undefined) {
        throw new InputError(`cannot tell the split from the file name; rename it to contain train, valid or test`, file);
      }
      problems.push(fromHuggingFace(row, split, file, options));
    }
  }
  const kept = problems.filter((problem) => problem.tests.length > 0).length;
  if (kept < problems.length) dropped['no hidden tests (kept for generation only)'] = problems.length - kept;
  return { problems, report: { kept: problems.length, dropped } };
}
