/**
 * APPS (Hendrycks et al., 2021) in its original per-problem layout:
 * `<root>/{train,test}/<id>/` with question.txt, solutions.json (list of
 * Python sources), input_output.json (`{inputs, outputs, fn_name?}`),
 * metadata.json (`{difficulty, url}`) and an optional starter_code.py.
 *
 * Stdin problems keep their statement examples as the model's examples and
 * input_output.json as the hidden tests. Call-based problems (`fn_name`) are
 * converted to stdin problems through the sandbox when a runner is given.
 * The APPS test folder is the test split; train problems are divided into
 * train and validation by a hash of their id.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, getLogger } from '@sculpt/core';
import { divideTests, recordCalls, ReferenceFailure, withStdinDriver } from './function-style.js';
import { assignSplit, type SplitFractions } from './split.js';
import { parseStatement } from './statement.js';
import { MAX_PROMPT_EXAMPLES, type CodeProblem, type IoExample, type LoadReport, type PythonRunner } from './types.js';

const log = getLogger('datasets:apps');

export interface AppsOptions {
  /** Directory holding `train/` and/or `test/` (the APPS root). */
  root: string;
  fractions: SplitFractions;
  seed: number;
  /** Keep at most this many reference solutions per problem. */
  maxSolutions: number;
  /** Needed to convert call-based problems; without it they are dropped and counted. */
  runner?: PythonRunner;
}

interface AppsInputOutput {
  inputs?: unknown[];
  outputs?: unknown[];
  fn_name?: string;
}

async function readJson<T>(path: string): Promise<T> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new InputError(`invalid JSON (${(error as Error).message}); re-extract the APPS archive`, path);
  }
}

/** Stdin solutions read input(); solutions written for call-based problems define functions only. */
function isStdinSolution(source: string): boolean {
  return /\binput\s*\(|sys\.stdin|open\(0\)/u.test(source);
}

function stringTests(io: AppsInputOutput, file: string): IoExample[] {
  const inputs = io.inputs ?? [];
  const outputs = io.outputs ?? [];
  if (inputs.length !== outputs.length) {
    throw new InputError(`has ${inputs.length} inputs but ${outputs.length} outputs`, file);
  }
  const tests: IoExample[] = [];
  inputs.forEach((input, index) => {
    const output = outputs[index];
    // A few APPS stdin problems store tests as lists of lines.
    const asText = (value: unknown): string | undefined =>
      typeof value === 'string' ? value : Array.isArray(value) && value.every((line) => typeof line === 'string') ? value.join('\n') : undefined;
    const inputText = asText(input);
    const outputText = asText(output);
    if (inputText !== undefined && outputText !== undefined) tests.push({ input: inputText, output: outputText });
  });
  return tests;
}

class Counter {
  readonly dropped: Record<string, number> = {};
  drop(reason: string, id: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    log.debug(() => `Dropped APPS problem ${id}: ${reason}`);
  }
}

async function loadProblem(
  directory: string,
  folderSplit: 'train' | 'test',
  name: string,
  options: AppsOptions,
  counter: Counter,
): Promise<CodeProblem | undefined> {
  const id = `apps/${folderSplit}/${name}`;
  const questionPath = join(directory, 'question.txt');
  if (!existsSync(questionPath)) {
    counter.drop('missing question.txt', id);
    return undefined;
  }
  const statement = await readFile(questionPath, 'utf8');
  const solutionsPath = join(directory, 'solutions.json');
  const solutions = existsSync(solutionsPath) ? await readJson<unknown[]>(solutionsPath) : [];
  const ioPath = join(directory, 'input_output.json');
  const io = existsSync(ioPath) ? await readJson<AppsInputOutput>(ioPath) : {};
  const metadataPath = join(directory, 'metadata.json');
  const metadata = existsSync(metadataPath) ? await readJson<{ difficulty?: string }>(metadataPath) : {};
  const split = folderSplit === 'test' ? 'test' : assignSplit(id, options.fractions, options.seed, true);
  const parsed = parseStatement(statement);
  const base = { id, source: 'apps' as const, split, difficulty: metadata.difficulty, origin: directory };
  const sources = solutions.filter((solution): solution is string => typeof solution === 'string');

  if (io.fn_name === undefined) {
    const stdinSolutions = sources.filter(isStdinSolution).slice(0, options.maxSolutions);
    const tests = stringTests(io, ioPath);
    if (tests.length === 0) {
      counter.drop('no stdin tests', id);
      return undefined;
    }
    return {
      ...base,
      style: 'stdin',
      description: parsed.description,
      examples: parsed.examples.slice(0, MAX_PROMPT_EXAMPLES),
      tests,
      solutions: stdinSolutions,
    };
  }

  return loadCallBased(io, sources, parsed.description, base, options, counter);
}

/** LeetCode-style solutions define `class Solution` with the method; others define a plain function. */
function classOf(source: string): string | undefined {
  return /^class\s+Solution\b/mu.test(source) ? 'Solution' : undefined;
}

async function loadCallBased(
  io: AppsInputOutput,
  sources: string[],
  description: string,
  base: Pick<CodeProblem, 'id' | 'source' | 'split' | 'difficulty' | 'origin'>,
  options: AppsOptions,
  counter: Counter,
): Promise<CodeProblem | undefined> {
  const entryPoint = io.fn_name as string;
  if (options.runner === undefined) {
    counter.drop('call-based problem without a Python runner', base.id);
    return undefined;
  }

  const inputs = io.inputs ?? [];
  if (!inputs.every(Array.isArray) || inputs.length !== (io.outputs ?? []).length || inputs.length === 0) {
    counter.drop('malformed call-based tests', base.id);
    return undefined;
  }

  // LeetCode solutions use typing names such as List without importing them.
  const preamble = 'from typing import *\n\n';
  const converted: string[] = [];
  let tests: IoExample[] | undefined;
  for (const source of sources.slice(0, options.maxSolutions)) {
    const solution = preamble + source;
    const className = classOf(source);
    try {
      const recorded = await recordCalls(options.runner, {
        solution,
        entryPoint,
        className,
        harness: { kind: 'cases', inputs: inputs as unknown[][], outputs: io.outputs ?? [] },
      });
      tests ??= recorded.tests;
      converted.push(withStdinDriver(solution, entryPoint, className));
    } catch (error) {
      if (!(error instanceof ReferenceFailure)) throw error;
      log.debug(() => `APPS ${base.id}: a reference solution was rejected: ${error.message}`);
    }
  }

  if (tests === undefined || tests.length === 0) {
    counter.drop('no call-based solution passed its tests', base.id);
    return undefined;
  }
  const { examples, hidden } = divideTests(tests);
  return { ...base, style: 'call-based', description, examples, tests: hidden, solutions: converted, entryPoint };
}

/** Loads every problem under the root; returns them in id order with load counts. */
export async function loadApps(options: AppsOptions): Promise<{ problems: CodeProblem[]; report: LoadReport }> {
  const folders = (['train', 'test'] as const).filter((folder) => existsSync(join(options.root, folder)));
  if (folders.length === 0) {
    throw new InputError(`no train/ or test/ folder found; point dataDir at the extracted APPS directory`, options.root);
  }
  const counter = new Counter();
  const problems: CodeProblem[] = [];
  for (const folder of folders) {
    const names = (await readdir(join(options.root, folder), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    for (const name of names) {
      const problem = await loadProblem(join(options.root, folder, name), folder, name, options, counter);
      if (problem) problems.push(problem);
    }
  }
  return { problems, report: { kept: problems.length, dropped: counter.dropped } };
}
