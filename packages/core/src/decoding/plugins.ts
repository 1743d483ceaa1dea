/** Core's built-in decoders, listed lazily like every package's manifest. */
import type { LazyPluginEntry, Plugin } from '../plugin.js';

const load = async (module: Promise<{ default: unknown }>): Promise<Plugin> => (await module).default as Plugin;

export const plugins: LazyPluginEntry[] = [
  { kind: 'decoder', name: 'greedy', description: 'Pick the most likely token at every step', load: () => load(import('./greedy.js')) },
  {
    kind: 'decoder',
    name: 'sample',
    description: 'Sample each token with temperature, top-k and top-p filtering',
    load: () => load(import('./sample.js')),
  },
  { kind: 'decoder', name: 'beam', description: 'Beam search with a length penalty', load: () => load(import('./beam-plugin.js')) },
  {
    kind: 'decoder',
    name: 'constrained',
    description: 'Greedy or sampled decoding restricted at each step by an allowedTokens callback',
    load: () => load(import('./constrained.js')),
  },
];
