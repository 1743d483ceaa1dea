/**
 * Built-in plugins of this package, listed by name with lazy loaders so the
 * registry can list them without importing their code.
 */
import type { LazyPluginEntry, Plugin } from '@sculpt/core';

export const plugins: LazyPluginEntry[] = [
  {
    kind: 'decoder',
    name: 'coarse-to-fine',
    description: 'ChainCoder coarse-to-fine decoding: S1, S2, S3, S4 in order with layout-consistent S4 tokens (needs a trained model folder)',
    load: async () => (await import('./decode/coarse-to-fine-plugin.js')).default as Plugin,
  },
];
