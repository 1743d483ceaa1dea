import { UsageError } from '@sculpt/core';

/** Names of the built-in dataset plugins that build calibration sets (the code datasets of this package do not). */
export const CALIBRATION_DATASET_NAMES: readonly string[] = [
  'c4',
  'pile',
  'oscar',
  'redpajama',
  'wikitext2',
  'tinystories',
  'gsm8k',
  'svamp',
  'mawps',
  'anli_r1',
  'anli_r2',
  'anli_r3',
  'esnli',
  'commonsense_qa',
  'race',
  'winogrande',
  'ellipses',
  'random',
  'custom',
];

/** Names of the built-in code dataset plugins, which feed the ChainCoder commands and never build calibration sets. */
export const CODE_DATASET_NAMES: readonly string[] = ['apps', 'code-contests', 'mbpp', 'humaneval', 'generated-stdin'];

/**
 * Builds the error for a dataset name the registry does not know, listing
 * only the datasets usable for `purpose`. Plugin datasets that are in neither
 * built-in list are kept, because their kind is known only once created.
 */
export function unknownDatasetError(name: string, purpose: 'calibration' | 'code', registered: readonly string[]): UsageError {
  const excluded = purpose === 'calibration' ? CODE_DATASET_NAMES : CALIBRATION_DATASET_NAMES;
  const usable = registered.filter((candidate) => !excluded.includes(candidate)).sort();
  const other = purpose === 'calibration' ? 'code' : 'calibration';
  const hint = excluded.includes(name) ? ` "${name}" is a ${other} dataset, which this command does not accept.` : '';
  return new UsageError(`Unknown dataset "${name}". ${purpose === 'calibration' ? 'Calibration' : 'Code'} datasets: ${usable.join(', ')}.${hint}`);
}
