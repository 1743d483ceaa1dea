/**
 * Turns function-style problems (MBPP, HumanEval, APPS call-based) into
 * stdin/stdout problems by running the reference solution in a sandbox.
 *
 * A recorder wraps the entry point and runs the dataset's own tests through
 * it, recording `repr` of the arguments and of the result of every top-level
 * call. Each recorded call becomes one I/O test: stdin is the arguments'
 * tuple literal, stdout is the result's `repr`. A problem whose reference
 * solution fails its own tests is dropped.
 */
import { InputError } from '@sculpt/core';
import type { IoExample, PythonRunner } from './types.js';

/** Kind of test code a dataset ships for the entry point. */
export type FunctionHarness =
  /** MBPP: `assert` statements that call the function by name, after optional setup code. */
  | { kind: 'asserts'; setup: string; asserts: string[] }
  /** HumanEval: test code defining `check(candidate)`. */
  | { kind: 'check'; code: string }
  /** APPS call-based: argument lists with expected results (JSON values). */
  | { kind: 'cases'; inputs: unknown[][]; outputs: unknown[] };

export interface FunctionProblem {
  solution: string;
  entryPoint: string;
  /** Set for LeetCode-style solutions: the method is called on a fresh instance of this class. */
  className?: string;
  harness: FunctionHarness;
}

/**
 * The recorder, run in the sandbox with the JSON spec on stdin. It prints one
 * JSON object: the recorded calls, or the error that made the reference fail.
 */
const RECORDER = String.raw`
import ast, json, sys, traceback

spec = json.loads(sys.stdin.read())
namespace = {"__name__": "solution"}
exec(compile(spec["solution"], "solution.py", "exec"), namespace)
if spec.get("className"):
    target = getattr(namespace[spec["className"]](), spec["entryPoint"])
else:
    target = namespace[spec["entryPoint"]]

calls = []
skipped = 0
depth = 0

def recorder(*args, **kwargs):
    global depth, skipped
    shown = repr(args)
    try:
        literal = ast.literal_eval(shown) == args
    except Exception:
        literal = False
    depth += 1
    try:
        result = target(*args, **kwargs)
    finally:
        depth -= 1
    # Only top-level calls with literal arguments and results can become stdin tests.
    if depth == 0:
        try:
            usable = literal and not kwargs and ast.literal_eval(repr(result)) == result
        except Exception:
            usable = False
        if usable:
            calls.append([shown, repr(result)])
        else:
            skipped += 1
    return result

def as_lists(value):
    if isinstance(value, (list, tuple)):
        return [as_lists(item) for item in value]
    return value

harness = spec["harness"]
try:
    if harness["kind"] == "asserts":
        namespace[spec["entryPoint"]] = recorder
        exec(harness["setup"], namespace)
        for statement in harness["asserts"]:
            exec(statement, namespace)
    elif harness["kind"] == "check":
        exec(harness["code"], namespace)
        namespace["check"](recorder)
    else:
        for args, expected in zip(harness["inputs"], harness["outputs"]):
            result = as_lists(recorder(*args))
            # APPS sometimes wraps an expected result in a one-element list.
            if result != expected and not (isinstance(expected, list) and len(expected) == 1 and result == expected[0]):
                raise AssertionError("expected %r, got %r" % (expected, result))
except BaseException:
    print(json.dumps({"error": traceback.format_exc(limit=3)}))
    sys.exit(0)
print(json.dumps({"calls": calls, "skipped": skipped}))
`;

export interface RecordedCalls {
  tests: IoExample[];
  /** Calls that could not become tests (non-literal arguments or results, keyword arguments). */
  skipped: number;
}

/** Error raised when a reference solution cannot be turned into tests. */
export class ReferenceFailure extends Error {}

/** Runs the reference through its tests in the sandbox and returns the recorded calls as stdin tests. */
export async function recordCalls(runner: PythonRunner, problem: FunctionProblem, timeoutMs = 10_000): Promise<RecordedCalls> {
  const result = await runner.run({ program: RECORDER, stdin: JSON.stringify(problem), limits: { timeoutMs } });
  if (result.status !== 'exited' || result.exitCode !== 0) {
    throw new ReferenceFailure(`recorder ${result.status} (exit ${String(result.exitCode)}): ${result.stderr.trim().slice(-300)}`);
  }
  let report: { calls?: [string, string][]; skipped?: number; error?: string };
  try {
    report = JSON.parse(result.stdout) as typeof report;
  } catch (error) {
    throw new ReferenceFailure(`recorder printed invalid JSON: ${result.stdout.slice(0, 200)}`, { cause: error });
  }
  if (report.error !== undefined) throw new ReferenceFailure(`reference solution failed its tests: ${report.error.trim().slice(-300)}`);
  const tests = (report.calls ?? []).map(([input, output]) => ({ input: `${input}\n`, output: `${output}\n` }));
  return { tests, skipped: report.skipped ?? 0 };
}

/**
 * Appends a driver that reads the arguments' tuple literal from stdin, calls
 * the entry point and prints `repr` of the result, so the solution runs as a
 * stdin program.
 */
export function withStdinDriver(solution: string, entryPoint: string, className?: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/u.test(entryPoint)) {
    throw new InputError(`entry point ${JSON.stringify(entryPoint)} is not a Python identifier`);
  }
  const callee = className === undefined ? entryPoint : `${className}().${entryPoint}`;
  return [
    solution.replace(/\s+$/u, ''),
    '',
    '',
    'import ast as _ast, sys as _sys',
    '_arguments = _ast.literal_eval(_sys.stdin.read())',
    `print(repr(${callee}(*_arguments)))`,
    '',
  ].join('\n');
}

/**
 * Divides recorded tests: the first third (at least 1, at most 4) become the
 * examples shown to the model and the rest stay hidden. With a single test,
 * it stays hidden and the model is given no example.
 */
export function divideTests(tests: IoExample[]): { examples: IoExample[]; hidden: IoExample[] } {
  if (tests.length < 2) return { examples: [], hidden: tests };
  const count = Math.max(1, Math.min(4, Math.floor(tests.length / 3)));
  return { examples: tests.slice(0, count), hidden: tests.slice(count) };
}
