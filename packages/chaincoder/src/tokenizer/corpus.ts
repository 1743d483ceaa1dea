/**
 * Python programs from the code datasets sculpt ships samples of (MBPP,
 * HumanEval, APPS, CodeContests) and from directories of `.py` files.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { InputError } from '@sculpt/core';

export interface CorpusProgram {
  /** Stable name, e.g. `mbpp/601` or `stdlib/json/decoder.py`. */
  name: string;
  source: string;
}

async function readJsonLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new InputError(`line ${i + 1} is not valid JSON: ${(error as Error).message}`, path);
      }
    });
}

/**
 * Reads every program of the dataset samples under `dataRoot`: MBPP `code`,
 * HumanEval `prompt + canonical_solution`, each APPS solution, and the
 * CodeContests prompts. The CodeT-derived CodeContests sample has no
 * solutions, so its prompts (the statement as a docstring) are used.
 */
export async function readDatasetPrograms(dataRoot: string): Promise<CorpusProgram[]> {
  const programs: CorpusProgram[] = [];
  for (const record of await readJsonLines(join(dataRoot, 'mbpp/mbpp.sample.jsonl'))) {
    programs.push({ name: `mbpp/${String(record.task_id)}`, source: String(record.code) });
  }
  for (const record of await readJsonLines(join(dataRoot, 'humaneval/HumanEval.sample.jsonl'))) {
    programs.push({ name: String(record.task_id), source: String(record.prompt) + String(record.canonical_solution) });
  }
  const appsRoot = join(dataRoot, 'apps/APPS/train');
  for (const problem of (await readdir(appsRoot)).sort()) {
    const path = join(appsRoot, problem, 'solutions.json');
    const solutions = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (!Array.isArray(solutions)) throw new InputError('expected a JSON array of solution strings', path);
    solutions.forEach((solution, i) => programs.push({ name: `apps/${problem}/${i}`, source: String(solution) }));
  }
  for (const record of await readJsonLines(join(dataRoot, 'code_contests/CodeContests_codet.sample.jsonl'))) {
    programs.push({ name: String(record.task_id), source: String(record.prompt) });
  }
  return programs;
}

/** Lists the `.py` files under `root`, sorted, skipping `site-packages` (third-party code). */
export async function listPythonFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'site-packages' && entry.name !== '__pycache__') await walk(path);
      } else if (entry.isFile() && entry.name.endsWith('.py')) {
        files.push(path);
      }
    }
  };
  await walk(root);
  return files.sort();
}

export async function readPythonFiles(root: string, prefix: string, files?: string[]): Promise<CorpusProgram[]> {
  const paths = files ?? (await listPythonFiles(root));
  const programs: CorpusProgram[] = [];
  for (const path of paths) {
    // NOTE: files are read as UTF-8; a file declaring another coding (a few stdlib test files) decodes with replacement characters.
    // Python skips a UTF-8 byte order mark when it reads a file; ast.parse on a str does not.
    const source = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
    programs.push({ name: `${prefix}/${relative(root, path)}`, source });
  }
  return programs;
}
