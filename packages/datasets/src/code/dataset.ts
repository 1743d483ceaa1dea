/** A CodeDataset over a loader that runs once, on first use. */
import { UsageError } from '@sculpt/core';
import { CODE_SPLITS, type CodeDataset, type CodeProblem, type CodeSplit, type LoadReport } from './types.js';

export function lazyCodeDataset(name: string, load: () => Promise<{ problems: CodeProblem[]; report: LoadReport }>): CodeDataset {
  let loaded: Promise<{ problems: CodeProblem[]; report: LoadReport }> | undefined;
  let lastReport: LoadReport = { kept: 0, dropped: {} };
  return {
    kind: 'code',
    name,
    async problems(split: CodeSplit) {
      if (!CODE_SPLITS.includes(split)) {
        throw new UsageError(`Unknown split ${JSON.stringify(split)} for ${name}; use one of ${CODE_SPLITS.join(', ')}.`);
      }
      loaded ??= load();
      const result = await loaded;
      lastReport = result.report;
      return result.problems.filter((problem) => problem.split === split);
    },
    report: () => lastReport,
  };
}
