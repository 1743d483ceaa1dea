/** Plugins of the control sets (ellipses, random) and of custom local files. */
import { UsageError, definePlugin } from '@sculpt/core';
import { z } from 'zod';
import { customDefinition, customOptionsSchema } from '../datasets/custom.js';
import { DatasetInstance, sourceOptionsSchema } from '../datasets/instance.js';
import { SyntheticDataset } from '../datasets/synthetic.js';
import { DATASET_PLUGIN_VERSION } from './builtin.js';

export const ellipsesPlugin = definePlugin({
  meta: {
    name: 'ellipses',
    kind: 'dataset',
    version: DATASET_PLUGIN_VERSION,
    description: 'Control: "." repeated, windowed to seqlen',
    options: z.object({}).passthrough(),
  },
  create: () => new SyntheticDataset('ellipses'),
});

export const randomPlugin = definePlugin({
  meta: {
    name: 'random',
    kind: 'dataset',
    version: DATASET_PLUGIN_VERSION,
    description: 'Control: seeded random [A-Za-z0-9] strings, windowed to seqlen',
    options: z.object({}).passthrough(),
  },
  create: () => new SyntheticDataset('random'),
});

export const customPlugin = definePlugin({
  meta: {
    name: 'custom',
    kind: 'dataset',
    version: DATASET_PLUGIN_VERSION,
    description: 'Any local jsonl/json/csv/parquet/txt file (optionally .gz) with a field mapping and a template',
    options: sourceOptionsSchema.extend(customOptionsSchema.shape),
  },
  create: (options) => {
    if (options.files === undefined || options.files.length === 0) {
      throw new UsageError('the custom dataset needs a file: pass --data FILE (option "files")');
    }
    return new DatasetInstance(customDefinition(options), { ...options, hub: false });
  },
});
