/**
 * Steps and pipelines. A step is a named async function from one value to the
 * next. A pipeline runs steps in order and passes each output to the next
 * step. It is itself a step, so pipelines nest. TypeScript checks that each
 * step accepts what the previous one returns.
 */
import { AbortError, throwIfAborted } from '../errors.js';
import { createStepContext, type RunContext, type StepContext } from './context.js';
import type { PipelineEvent, PipelineListener } from './events.js';

export interface Step<In, Out> {
  readonly name: string;
  // A function-typed property (not a method) so that input types are checked contravariantly.
  readonly run: (input: In, context: StepContext) => Promise<Out> | Out;
}

/** Creates a step from a name and a function. */
export function step<In, Out>(name: string, run: (input: In, context: StepContext) => Promise<Out> | Out): Step<In, Out> {
  return { name, run };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStep = Step<any, any>;
type InputOf<S> = S extends Step<infer I, unknown> ? I : never;
type OutputOf<S> = S extends Step<never, infer O> ? O : never;

/**
 * The list of steps with each input type replaced by the previous output
 * type. When a step cannot accept the previous output, `steps` fails to match
 * this type and the compiler reports the step at fault.
 */
type Chain<S extends readonly AnyStep[], Previous> = S extends readonly [infer First extends AnyStep, ...infer Rest extends readonly AnyStep[]]
  ? readonly [Step<Previous, OutputOf<First>>, ...Chain<Rest, OutputOf<First>>]
  : readonly [];

type LastOutput<S extends readonly AnyStep[]> = S extends readonly [...AnyStep[], infer Last] ? OutputOf<Last> : never;

export interface Pipeline<In, Out> extends Step<In, Out> {
  readonly steps: readonly AnyStep[];
}

/** Composes steps into a pipeline; the output of each step is the input of the next. */
export function pipeline<const S extends readonly [AnyStep, ...AnyStep[]]>(
  name: string,
  steps: S & Chain<S, InputOf<S[0]>>,
): Pipeline<InputOf<S[0]>, LastOutput<S>> {
  const list: readonly AnyStep[] = steps;
  const names = new Set<string>();
  for (const item of list) {
    if (names.has(item.name)) throw new Error(`Pipeline "${name}" has two steps named "${item.name}"; step names must be unique`);
    names.add(item.name);
  }
  const self: Pipeline<InputOf<S[0]>, LastOutput<S>> = {
    name,
    steps: list,
    run: (input, context) => runSteps(list, input, context, (event) => emitters.get(context)?.(event)) as Promise<LastOutput<S>>,
  };
  return self;
}

// The event sink of each step context, so a nested pipeline reports through its parent's listener.
const emitters = new WeakMap<StepContext, PipelineListener>();

async function runSteps(steps: readonly AnyStep[], input: unknown, parent: StepContext, emit: PipelineListener): Promise<unknown> {
  let value = input;
  for (const [index, current] of steps.entries()) {
    throwIfAborted(parent.signal);
    const path = parent.step === '' ? current.name : `${parent.step}/${current.name}`;
    const context = createStepContext(parent.run, parent.signal, path, emit);
    emitters.set(context, emit);

    const started = performance.now();
    emit({ type: 'step-start', step: path, index, count: steps.length, time: Date.now() });
    try {
      value = await current.run(value, context);
      // A step that ignores the signal still may not hand on a result after an abort.
      throwIfAborted(parent.signal);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      // Only the innermost step reports; enclosing pipelines rethrow without a second event.
      if (!reported.has(failure)) {
        reported.add(failure);
        emit({ type: 'error', step: path, error: failure, aborted: failure instanceof AbortError });
      }
      throw failure;
    }
    emit({ type: 'step-end', step: path, index, durationMs: performance.now() - started });
  }
  return value;
}

const reported = new WeakSet<Error>();

export interface RunPipelineOptions {
  signal?: AbortSignal;
  onEvent?: PipelineListener;
}

/** Runs a pipeline (or any step) at the top level, emitting its events to `onEvent`. */
export async function runPipeline<In, Out>(
  target: Step<In, Out>,
  input: In,
  run: RunContext,
  options: RunPipelineOptions = {},
): Promise<Out> {
  const signal = options.signal ?? new AbortController().signal;
  const listeners: PipelineListener = (event: PipelineEvent) => options.onEvent?.(event);
  const root = createStepContext(run, signal, '', listeners);
  emitters.set(root, listeners);
  return (await runSteps([target], input, root, listeners)) as Out;
}
