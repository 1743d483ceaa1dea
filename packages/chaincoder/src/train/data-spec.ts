/**
 * Training data made of several code datasets. Each `--data` value names one
 * dataset plugin with its own options:
 *
 *   NAME[:KEY=VALUE]...   e.g. apps:dataDir=../data/APPS:maxSolutions=3
 *
 * Values that parse as JSON (numbers, booleans) are used as such. `files` may
 * repeat and collects a list. `resplit=F` is handled here rather than by the
 * plugin: it pools every split of that dataset and assigns each problem to
 * validation (fraction F) or train by hashing its id, for sources such as
 * HumanEval whose problems are all in one split. A value without `:` may
 * list several plain names separated by commas (`generated-stdin,apps`).
 */
import { UsageError } from '@sculpt/core';
import { assignSplit, type CodeProblem } from '@sculpt/datasets';

export interface DataSpec {
  /** Dataset plugin name. */
  name: string;
  /** Plugin options given in the spec (paths as written; the caller resolves them). */
  options: Record<string, unknown>;
  /** Validation fraction for a split by problem id; absent keeps the dataset's own splits. */
  resplit?: number;
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // Not JSON: keep the text (paths, names).
    return raw;
  }
}

function parseOne(spec: string, flag: string): DataSpec {
  const [name, ...pairs] = spec.split(':');
  if (!/^[a-z0-9][a-z0-9-]*$/u.test(name)) throw new UsageError(`${flag} "${spec}": "${name}" is not a dataset name; write NAME or NAME:KEY=VALUE:...`);
  const options: Record<string, unknown> = {};
  let resplit: number | undefined;
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`${flag} "${spec}": expected KEY=VALUE after "${name}:", got "${pair}"`);
    const key = pair.slice(0, at);
    const raw = pair.slice(at + 1);
    if (key === 'resplit') {
      const fraction = Number(raw);
      if (raw.trim() === '' || !(fraction > 0 && fraction < 1)) throw new UsageError(`${flag} "${spec}": resplit must be a validation fraction between 0 and 1, got "${raw}"`);
      resplit = fraction;
    } else if (key === 'files') {
      options.files = [...((options.files as string[] | undefined) ?? []), raw];
    } else {
      if (key in options) throw new UsageError(`${flag} "${spec}": option ${key} is given twice`);
      options[key] = parseValue(raw);
    }
  }
  return resplit === undefined ? { name, options } : { name, options, resplit };
}

/** Parses the `--data` values; a dataset named twice is rejected, because its problems would be counted twice. */
export function parseDataSpecs(values: readonly string[], flag = '--data'): DataSpec[] {
  const specs: DataSpec[] = [];
  for (const value of values) {
    const trimmed = value.trim();
    if (trimmed === '') throw new UsageError(`${flag} needs a dataset name, got an empty value.`);
    const parts = trimmed.includes(':') ? [trimmed] : trimmed.split(',').map((part) => part.trim()).filter((part) => part !== '');
    for (const part of parts) specs.push(parseOne(part, flag));
  }
  if (specs.length === 0) throw new UsageError(`${flag} needs at least one dataset name.`);
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new UsageError(`${flag} names ${spec.name} twice; give each dataset once with all its options.`);
    seen.add(spec.name);
  }
  return specs;
}

/** Writes a spec back in the `--data` syntax, for run records. */
export function formatDataSpec(spec: DataSpec): string {
  const pairs = Object.entries(spec.options).flatMap(([key, value]) =>
    Array.isArray(value) && key === 'files' ? value.map((file) => `files=${String(file)}`) : [`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`],
  );
  if (spec.resplit !== undefined) pairs.push(`resplit=${spec.resplit}`);
  return [spec.name, ...pairs].join(':');
}

/**
 * Divides all problems of one dataset into train and validation by a hash of
 * each problem id (seeded), so the assignment is the same on every run.
 */
export function resplitProblems(problems: readonly CodeProblem[], validationFraction: number, seed: number): { train: CodeProblem[]; validation: CodeProblem[] } {
  const train: CodeProblem[] = [];
  const validation: CodeProblem[] = [];
  for (const problem of problems) {
    const split = assignSplit(problem.id, { validation: validationFraction, test: 0 }, seed, true);
    (split === 'validation' ? validation : train).push({ ...problem, split });
  }
  return { train, validation };
}

/** Rejects problem ids that occur twice across datasets, since one problem could then sit in both splits. */
export function checkDistinctIds(problems: readonly CodeProblem[]): void {
  const seen = new Set<string>();
  for (const problem of problems) {
    if (seen.has(problem.id)) throw new UsageError(`Problem id ${problem.id} occurs twice in the training data; each dataset may be given once.`);
    seen.add(problem.id);
  }
}
