/** Plugins of the downstream datasets (arithmetic, NLI, commonsense). */
import { definePlugin } from '@sculpt/core';
import { gsm8k, mawps, svamp } from '../datasets/arithmetic.js';
import { WINOGRANDE_SIZES, commonsenseQa, race, winogrande } from '../datasets/commonsense.js';
import { DatasetInstance, sourceOptionsSchema } from '../datasets/instance.js';
import { anliR1, anliR2, anliR3, esnli } from '../datasets/nli.js';
import { z } from 'zod';
import { DATASET_PLUGIN_VERSION, builtinDatasetPlugin } from './builtin.js';

export const gsm8kPlugin = builtinDatasetPlugin(gsm8k);
export const svampPlugin = builtinDatasetPlugin(svamp);
export const mawpsPlugin = builtinDatasetPlugin(mawps);
export const anliR1Plugin = builtinDatasetPlugin(anliR1);
export const anliR2Plugin = builtinDatasetPlugin(anliR2);
export const anliR3Plugin = builtinDatasetPlugin(anliR3);
export const esnliPlugin = builtinDatasetPlugin(esnli);
export const commonsenseQaPlugin = builtinDatasetPlugin(commonsenseQa);
export const racePlugin = builtinDatasetPlugin(race);

export const winograndePlugin = definePlugin({
  meta: {
    name: 'winogrande',
    kind: 'dataset',
    version: DATASET_PLUGIN_VERSION,
    description: winogrande('m').description,
    // The reference calibrates on winogrande_m; `size` picks another training file (train_<size>.jsonl).
    options: sourceOptionsSchema.extend({ size: z.enum(WINOGRANDE_SIZES).default('m') }),
  },
  create: (options) => new DatasetInstance(winogrande(options.size), options),
});
