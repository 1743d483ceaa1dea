/** Shared setup for tests that need the tokenizer and the CPython oracle. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PythonAstOracle } from '../../src/ast/python-oracle.js';
import { createProgramTokenizer, type ProgramTokenizer } from '../../src/tokenizer/encode.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));
export const DATA_ROOT = resolve(REPO_ROOT, '../shared/data');

export async function startFixture(): Promise<{ tokenizer: ProgramTokenizer; oracle: PythonAstOracle }> {
  return { tokenizer: await createProgramTokenizer(), oracle: await PythonAstOracle.start() };
}
