/** Paths of the shared data samples, which live beside the repository (never inside it). */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const sharedData = resolve(repoRoot, '../shared/data');
export const tok512Path = resolve(sharedData, 'models/stories260K/tok512.bin');
export const stories260KPath = resolve(sharedData, 'models/stories260K/stories260K.bin');
