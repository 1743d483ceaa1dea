/**
 * Regenerates test/tokenizer/goldens/parse-edge-cases.json: CPython 3.11's
 * tree (every field, in `_fields` order) for each edge case of
 * test/tokenizer/edge-cases.ts. The oracle rejects any other Python version.
 *
 * Usage: npx tsx --conditions=@sculpt/source scripts/regenerate-parse-goldens.ts
 */
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '@sculpt/core';
import { PythonAstOracle } from '../src/ast/python-oracle.js';
import { EDGE_CASES } from '../test/tokenizer/edge-cases.js';

const target = fileURLToPath(new URL('../test/tokenizer/goldens/parse-edge-cases.json', import.meta.url));
const oracle = await PythonAstOracle.start();
const goldens: Record<string, unknown> = {};
try {
  for (const [name, source] of Object.entries(EDGE_CASES)) goldens[name] = await oracle.tree(source);
} finally {
  oracle.close();
}
await writeFileAtomic(target, JSON.stringify(goldens, null, 1) + '\n');
process.stdout.write(`wrote ${Object.keys(goldens).length} goldens to ${target}\n`);
