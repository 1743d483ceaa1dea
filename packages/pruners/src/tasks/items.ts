/**
 * Test items of the built-in tasks, read through the datasets package. The
 * task picks the file from its candidate paths under the data directory. The
 * dataset plugin of the same name then parses it and builds each item's
 * prompt and answer, as it does for calibration. Both uses therefore accept the same file
 * layouts and raise the same errors on malformed records.
 */
import { Registry } from '@sculpt/core';
import type { CalibrationDataset, EvaluationItem } from '@sculpt/datasets';
import { plugins as datasetPlugins } from '@sculpt/datasets/plugins';
import { findDataFile } from './records.js';

let registry: Registry | undefined;

/** Returns a registry of the datasets package's built-in plugins, created on first use. */
function datasetRegistry(): Registry {
  registry ??= new Registry({ manifests: [], entries: datasetPlugins });
  return registry;
}

/**
 * Returns every evaluation item of `dataset` from the first of `candidates`
 * (paths relative to `dataDir`) that exists. The hub is never contacted.
 */
export async function readEvaluationItems(dataset: string, dataDir: string, candidates: readonly string[]): Promise<EvaluationItem[]> {
  const file = findDataFile(dataDir, dataset, candidates);
  const source = (await datasetRegistry().create('dataset', dataset, { files: [file], hub: false })) as CalibrationDataset;
  const items: EvaluationItem[] = [];
  for await (const item of source.evaluationItems()) items.push(item);
  return items;
}
