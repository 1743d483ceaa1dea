/** Wraps a dataset definition as a `dataset` plugin whose instances are `DatasetInstance`s. */
import { definePlugin } from '@sculpt/core';
import type { DatasetDefinition } from '../datasets/definition.js';
import { DatasetInstance, sourceOptionsSchema } from '../datasets/instance.js';

/** Version of the sampling and template behaviour; bump when samples for a seed change. */
export const DATASET_PLUGIN_VERSION = '1.0.0';

export function builtinDatasetPlugin(definition: DatasetDefinition) {
  return definePlugin({
    meta: {
      name: definition.name,
      kind: 'dataset',
      version: DATASET_PLUGIN_VERSION,
      description: definition.description,
      options: sourceOptionsSchema,
    },
    create: (options) => new DatasetInstance(definition, options),
  });
}
