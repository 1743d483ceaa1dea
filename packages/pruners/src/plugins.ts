/**
 * Built-in plugins of this package, listed by name with lazy loaders so the
 * registry can list them without importing their code.
 */
import type { LazyPluginEntry, Plugin } from '@sculpt/core';
import { TASK_NAMES } from './tasks/names.js';

async function loadDefault(module: Promise<{ default: unknown }>): Promise<Plugin> {
  return (await module).default as Plugin;
}

export const plugins: LazyPluginEntry[] = [
  {
    kind: 'pruner',
    name: 'magnitude',
    description: 'Prune the smallest |W| per matrix (or per N:M group); needs no calibration data',
    load: () => loadDefault(import('./methods/magnitude.js')),
  },
  {
    kind: 'pruner',
    name: 'wanda',
    description: 'Wanda: prune the smallest |W|·‖x‖ per output row (or N:M group); optional α-variant',
    load: () => loadDefault(import('./methods/wanda.js')),
  },
  {
    kind: 'pruner',
    name: 'sparsegpt',
    description: 'SparseGPT: per-block adaptive masks with OBS weight updates',
    load: () => loadDefault(import('./methods/sparsegpt.js')),
  },
  {
    kind: 'pruner',
    name: 'wanda+obs',
    description: "Wanda's mask with SparseGPT's OBS update on that fixed mask",
    load: () => loadDefault(import('./methods/wanda-obs.js')),
  },
  {
    kind: 'pruner',
    name: 'owl',
    description: 'OWL: Wanda with per-block sparsity from activation-outlier ratios',
    load: () => loadDefault(import('./methods/owl.js')),
  },
  {
    kind: 'pruner',
    name: 'ria',
    description: 'RIA: relative importance and activations',
    load: () => loadDefault(import('./methods/ria.js')),
  },
  ...TASK_NAMES.map(
    (name): LazyPluginEntry => ({
      kind: 'eval-task',
      name,
      description: `few-shot evaluation task ${name}`,
      load: async () => (await import('./tasks/plugins.js')).taskPlugin(name),
    }),
  ),
];
