/** Plugins of the pre-training corpora. */
import { c4, oscar, pile, redpajama, tinystories, wikitext2 } from '../datasets/pretraining.js';
import { builtinDatasetPlugin } from './builtin.js';

export const c4Plugin = builtinDatasetPlugin(c4);
export const pilePlugin = builtinDatasetPlugin(pile);
export const oscarPlugin = builtinDatasetPlugin(oscar);
export const redpajamaPlugin = builtinDatasetPlugin(redpajama);
export const wikitext2Plugin = builtinDatasetPlugin(wikitext2);
export const tinystoriesPlugin = builtinDatasetPlugin(tinystories);
