/**
 * The evaluation protocol: n candidate programs per problem are checked for
 * syntax by CPython, run on the examples the model saw and on the hidden
 * tests in the sandbox, and summarized as pass@k (unbiased), example-filtered
 * pass@k and candidate rates.
 */
import type { CodeProblem } from '@sculpt/datasets';
import { InputError, UsageError, getLogger } from '@sculpt/core';
import { judgeProgram, type JudgeOptions } from '../sandbox/judge.js';
import type { PythonSandbox } from '../sandbox/sandbox.js';
import { candidateRates, type CandidateOutcome, type CandidateRates } from './metrics.js';
import { filteredPassAtK, passAtK } from './pass-at-k.js';

const log = getLogger('chaincoder:eval');

/**
 * Reads a program from stdin and exits 0 when CPython's parser accepts it.
 * compile() rather than ast.parse() so that errors the compiler raises
 * after parsing (a misplaced `return`, `break` outside a loop) count too.
 */
const SYNTAX_CHECK = 'import sys\ncompile(sys.stdin.read(), "candidate.py", "exec")\n';

export interface ProblemResult {
  id: string;
  n: number;
  /** Candidates that passed every hidden test. */
  correct: number;
  passedExamples: number;
  correctAmongPassed: number;
  outcomes: CandidateOutcome[];
}

export interface EvaluationReport {
  /** Problems with hidden tests that were scored. */
  problems: number;
  /** Problems left out because they have no hidden tests or no candidates. */
  skipped: string[];
  samplesPerProblem: number;
  passAtK: Record<string, number>;
  filteredPassAtK: Record<string, number>;
  rates: CandidateRates;
  /** The output comparison rule, recorded with the results. */
  comparison: string;
  perProblem: ProblemResult[];
}

export interface EvaluateOptions extends Pick<JudgeOptions, 'comparison' | 'limits' | 'signal'> {
  ks: number[];
}

async function isValidPython(sandbox: PythonSandbox, program: string, signal?: AbortSignal): Promise<boolean> {
  const result = await sandbox.run({ program: SYNTAX_CHECK, stdin: program, signal, limits: { timeoutMs: 10_000 } });
  return result.status === 'exited' && result.exitCode === 0;
}

async function judgeCandidate(
  sandbox: PythonSandbox,
  problem: CodeProblem,
  program: string | null,
  options: EvaluateOptions,
): Promise<CandidateOutcome> {
  const failed: CandidateOutcome = { decodable: false, ranWithoutError: false, passedExamples: false, passedHidden: false };
  if (program === null || !(await isValidPython(sandbox, program, options.signal))) return failed;
  const judge = { comparison: options.comparison, limits: options.limits, signal: options.signal };
  // With no examples the filter keeps every candidate.
  const examples = problem.examples.length === 0 ? undefined : await judgeProgram(sandbox, program, problem.examples, judge);
  const hidden = await judgeProgram(sandbox, program, problem.tests, judge);
  return {
    decodable: true,
    ranWithoutError: hidden.ranWithoutError && (examples?.ranWithoutError ?? true),
    passedExamples: examples?.passed ?? true,
    passedHidden: hidden.passed,
  };
}

/**
 * Scores candidates per problem. `candidates` maps a problem id to its
 * programs. A null program is a decoder output that did not turn into a
 * program, and it counts as an undecodable, failing candidate.
 */
export async function evaluateCandidates(
  sandbox: PythonSandbox,
  problems: readonly CodeProblem[],
  candidates: ReadonlyMap<string, readonly (string | null)[]>,
  options: EvaluateOptions,
): Promise<EvaluationReport> {
  if (options.ks.length === 0) throw new UsageError('Give at least one k for pass@k.');
  const scored = problems.filter((problem) => problem.tests.length > 0 && (candidates.get(problem.id)?.length ?? 0) > 0);
  const skipped = problems.filter((problem) => !scored.includes(problem)).map((problem) => problem.id);
  if (scored.length === 0) {
    throw new InputError(`None of the ${problems.length} problems has both hidden tests and candidates; nothing to score.`);
  }
  const counts = new Set(scored.map((problem) => candidates.get(problem.id)?.length));
  if (counts.size !== 1) {
    throw new InputError(`Every problem needs the same number of candidates; found counts ${[...counts].join(', ')}.`);
  }
  const n = [...counts][0] as number;
  for (const k of options.ks) {
    if (n < k) throw new UsageError(`pass@${k} needs at least ${k} candidates per problem, got ${n}; raise --n.`);
  }

  log.info(() => `Scoring ${scored.length} problems x ${n} candidates (${skipped.length} problems skipped)`);
  // Every candidate is started at once; the sandbox's slot pool bounds how many processes run.
  const perProblem = await Promise.all(
    scored.map(async (problem): Promise<ProblemResult> => {
      const programs = candidates.get(problem.id) ?? [];
      const outcomes = await Promise.all(programs.map((program) => judgeCandidate(sandbox, problem, program, options)));
      return {
        id: problem.id,
        n,
        correct: outcomes.filter((outcome) => outcome.passedHidden).length,
        passedExamples: outcomes.filter((outcome) => outcome.passedExamples).length,
        correctAmongPassed: outcomes.filter((outcome) => outcome.passedExamples && outcome.passedHidden).length,
        outcomes,
      };
    }),
  );

  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  const passAtKByK: Record<string, number> = {};
  const filteredByK: Record<string, number> = {};
  for (const k of options.ks) {
    passAtKByK[`pass@${k}`] = mean(perProblem.map((result) => passAtK(result.n, result.correct, k)));
    filteredByK[`pass@${k}`] = mean(perProblem.map((result) => filteredPassAtK(result, k)));
  }
  return {
    problems: perProblem.length,
    skipped,
    samplesPerProblem: n,
    passAtK: passAtKByK,
    filteredPassAtK: filteredByK,
    rates: candidateRates(perProblem.flatMap((result) => result.outcomes)),
    comparison: options.comparison ?? 'exact-lines',
    perProblem,
  };
}
