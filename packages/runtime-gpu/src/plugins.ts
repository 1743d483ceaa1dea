/**
 * Built-in plugins of this package, listed by name with lazy loaders so the
 * registry can list them without importing their code.
 */
import type { LazyPluginEntry } from '@sculpt/core';

export const plugins: LazyPluginEntry[] = [];
