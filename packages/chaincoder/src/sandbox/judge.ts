/**
 * Judges a candidate program against stdin/stdout test cases in the sandbox.
 */
import { outputsMatch, type OutputComparison } from './compare.js';
import type { SandboxLimits } from './limits.js';
import type { PythonSandbox, RunResult, RunStatus } from './sandbox.js';

export interface IoTest {
  input: string;
  output: string;
}

export interface TestVerdict {
  passed: boolean;
  status: RunStatus;
  exitCode: number | null;
  /** True when Python exited 0 within the limits (whatever it printed). */
  ranWithoutError: boolean;
  durationMs: number;
  /** First 1,000 characters of stderr, for diagnosis. */
  stderr: string;
}

export interface ProgramVerdict {
  /** True when every test passed. */
  passed: boolean;
  passedCount: number;
  /** Tests actually run; fewer than the total when the judge stopped at the first failure. */
  runCount: number;
  totalCount: number;
  /** True when every test that ran exited 0 within the limits. */
  ranWithoutError: boolean;
  tests: TestVerdict[];
}

export interface JudgeOptions {
  comparison?: OutputComparison;
  /** Stop at the first failing test (enough for pass/fail; the default). */
  stopOnFailure?: boolean;
  limits?: Partial<SandboxLimits>;
  signal?: AbortSignal;
}

function verdictOf(result: RunResult, expected: string, comparison: OutputComparison): TestVerdict {
  const ranWithoutError = result.status === 'exited' && result.exitCode === 0;
  // The compat rule also fails any run that wrote to stderr, as the reference did.
  const stderrAllowed = comparison !== 'compat' || result.stderr.length === 0;
  return {
    passed: ranWithoutError && stderrAllowed && outputsMatch(result.stdout, expected, comparison),
    status: result.status,
    exitCode: result.exitCode,
    ranWithoutError,
    durationMs: result.durationMs,
    stderr: result.stderr.slice(0, 1000),
  };
}

/**
 * Runs `program` on the tests. Tests run one after another, so the sandbox's
 * slots stay free for other candidates; judge many candidates concurrently to
 * use every core.
 */
export async function judgeProgram(
  sandbox: PythonSandbox,
  program: string,
  tests: readonly IoTest[],
  options: JudgeOptions = {},
): Promise<ProgramVerdict> {
  const comparison = options.comparison ?? 'exact-lines';
  const stopOnFailure = options.stopOnFailure ?? true;
  const verdicts: TestVerdict[] = [];
  for (const test of tests) {
    const result = await sandbox.run({ program, stdin: test.input, limits: options.limits, signal: options.signal });
    const verdict = verdictOf(result, test.output, comparison);
    verdicts.push(verdict);
    if (!verdict.passed && stopOnFailure) break;
  }
  const passedCount = verdicts.filter((verdict) => verdict.passed).length;
  return {
    passed: passedCount === tests.length,
    passedCount,
    runCount: verdicts.length,
    totalCount: tests.length,
    ranWithoutError: verdicts.every((verdict) => verdict.ranWithoutError),
    tests: verdicts,
  };
}
