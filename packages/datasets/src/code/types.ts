/**
 * Types shared by the code-generation datasets (APPS, CodeContests, MBPP,
 * HumanEval and the built-in problem generator). Every source is normalized
 * to stdin/stdout problems: the model is given a description and a few examples,
 * and a candidate program is scored by running it on the hidden tests.
 */
import type { PluginContext } from '@sculpt/core';

/** One stdin/stdout test case; `output` is compared after trailing-whitespace normalization. */
export interface IoExample {
  input: string;
  output: string;
}

export const CODE_SPLITS = ['train', 'validation', 'test'] as const;
export type CodeSplit = (typeof CODE_SPLITS)[number];

export type CodeSourceName = 'apps' | 'code_contests' | 'mbpp' | 'humaneval' | 'generated';

/**
 * Interface of a problem's programs. `stdin` programs read stdin and print.
 * `call-based` problems came with a function interface. Their solutions carry
 * a small driver that reads the arguments' Python literal from stdin and
 * prints `repr` of the result, so they run as stdin programs too.
 */
export type ProblemStyle = 'stdin' | 'call-based';

export interface CodeProblem {
  /** Unique across sources, e.g. `apps/train/0001`, `mbpp/11`, `generated/sum-of-list/7`. */
  id: string;
  source: CodeSourceName;
  split: CodeSplit;
  style: ProblemStyle;
  description: string;
  /**
   * At most 4 examples given to the model, taken from the statement or from
   * public tests. They are never drawn from `tests`, although a dataset's own
   * hidden tests may repeat a statement example (APPS often does).
   */
  examples: IoExample[];
  /** Hidden tests used for scoring; empty when the source ships none (then the problem cannot be scored). */
  tests: IoExample[];
  /** Python 3 reference solutions, runnable as stdin programs. */
  solutions: string[];
  difficulty?: string;
  /** For call-based problems: the function or method the driver calls. */
  entryPoint?: string;
  /** File or directory the problem was read from, or `generated:<family>`. */
  origin: string;
}

/** Loader statistics, so a report can state how many problems were kept and why others were dropped. */
export interface LoadReport {
  kept: number;
  dropped: Record<string, number>;
}

/**
 * Instance returned by `create` of a code dataset plugin. `kind: 'code'`
 * distinguishes it from the calibration datasets of this package.
 */
export interface CodeDataset {
  kind: 'code';
  name: string;
  /** Problems of one split, in a stable order. */
  problems(split: CodeSplit): Promise<CodeProblem[]>;
  /** Counts of the last `problems` call. */
  report(): LoadReport;
}

/** A process result as the sandbox reports it; only the fields the converters need. */
export interface PythonRunResult {
  status: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs untrusted Python. The chaincoder package's sandbox satisfies this
 * interface; the datasets package never runs Python itself.
 */
export interface PythonRunner {
  run(request: { program: string; stdin?: string; limits?: { timeoutMs?: number } }): Promise<PythonRunResult>;
}

/** Extra context a code dataset may need at creation. */
export interface CodeDatasetContext extends PluginContext {
  runner?: PythonRunner;
}

/** The maximum number of examples shown to the model, as in the ChainCoder evaluation protocol. */
export const MAX_PROMPT_EXAMPLES = 4;
