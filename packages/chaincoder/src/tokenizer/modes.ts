/**
 * Tokenizer modes. `lossless` (the default) keeps every field of the
 * Python 3.11 tree. `compat` reproduces the reference ChainCoder tokenizer:
 * Python 3.8 dump strings, the float grid, dropped argument kinds and format
 * specs, `ImportFrom.level = 0`, and `True`/`1`/`1.0` sharing one vocabulary key.
 */
export type TokenizerMode = 'lossless' | 'compat';

export const TOKENIZER_MODES: readonly TokenizerMode[] = ['lossless', 'compat'];

/** The reference splits ints above 200 (compat); lossless splits every int outside range(-200, 200). */
export const MAX_INT_TOKEN = 200;

/** Names per renaming pool in the reference (`var_0` … `var_49`). */
export const DEFAULT_POOL_SIZE = 50;
