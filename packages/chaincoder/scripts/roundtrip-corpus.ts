/**
 * Lossless round trip of every program in the dataset samples and every
 * `.py` file of the installed Python standard library, checked by the real
 * python3 (see src/tokenizer/roundtrip.ts for the exact comparison).
 *
 * Usage: npx tsx --conditions=@sculpt/source scripts/roundtrip-corpus.ts [--out DIR] [--limit N]
 * Writes DIR/chaincoder-roundtrip.json and DIR/chaincoder-roundtrip.md (default DIR: <repo>/bench-results).
 * Identifier pools are unbounded here, so renaming is exercised without pool overflows.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLogger, writeFileAtomic } from '@sculpt/core';
import { PythonAstOracle } from '../src/ast/python-oracle.js';
import {
  checkRoundTrip,
  createProgramTokenizer,
  listPythonFiles,
  readDatasetPrograms,
  readPythonFiles,
  type RoundTripOutcome,
} from '../src/tokenizer/index.js';

const log = getLogger('chaincoder:roundtrip');
const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

const { values } = parseArgs({
  options: { out: { type: 'string' }, limit: { type: 'string' } },
});
const outDir = resolve(values.out ?? join(repoRoot, 'bench-results'));
const limit = values.limit === undefined ? Infinity : Number(values.limit);

const stdlib = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])']).toString().trim();
let stdlibFiles = await listPythonFiles(stdlib);
if (Number.isFinite(limit)) stdlibFiles = stdlibFiles.slice(0, limit);
const programs = [
  ...(await readDatasetPrograms(resolve(repoRoot, '../shared/data'))),
  ...(await readPythonFiles(stdlib, 'stdlib', stdlibFiles)),
];
log.info(() => `round-tripping ${programs.length} programs (stdlib at ${stdlib})`);

const tokenizer = await createProgramTokenizer();
const oracle = await PythonAstOracle.start();
const outcomes: RoundTripOutcome[] = [];
const started = performance.now();
for (const [i, program] of programs.entries()) {
  outcomes.push(await checkRoundTrip(program, tokenizer, oracle, { poolSize: Number.MAX_SAFE_INTEGER }));
  if ((i + 1) % 500 === 0) log.info(() => `${i + 1}/${programs.length} checked`);
}
oracle.close();
const seconds = (performance.now() - started) / 1000;

const counts: Record<string, number> = {};
for (const outcome of outcomes) counts[outcome.status] = (counts[outcome.status] ?? 0) + 1;
// Files CPython rejects or that use deliberately unsupported syntax are reported but not in the rate's denominator.
const eligible = outcomes.filter((o) => o.status === 'pass' || o.status === 'mismatch' || o.status === 'tokenizer-error');
const passed = counts.pass ?? 0;
const report = {
  python: execFileSync('python3', ['--version']).toString().trim(),
  stdlib,
  programs: outcomes.length,
  counts,
  passRate: eligible.length === 0 ? 1 : passed / eligible.length,
  seconds,
  failures: outcomes.filter((o) => o.status !== 'pass'),
};
mkdirSync(outDir, { recursive: true });
await writeFileAtomic(join(outDir, 'chaincoder-roundtrip.json'), JSON.stringify(report, null, 2) + '\n');

const lines = [
  '# ChainCoder tokenizer: lossless round trip against CPython',
  '',
  `${report.python}, stdlib at \`${stdlib}\`, ${outcomes.length} programs, ${seconds.toFixed(0)} s.`,
  '',
  `Pass rate over programs CPython accepts and the tokenizer supports: ${(report.passRate * 100).toFixed(2)}% (${passed}/${eligible.length}).`,
  '',
  '| status | programs |',
  '| --- | --- |',
  ...Object.entries(counts).map(([status, count]) => `| ${status} | ${count} |`),
  '',
  '## Every program that did not pass',
  '',
  ...report.failures.map((f) => `- \`${f.name}\` — ${f.status}: ${(f.detail ?? '').replace(/\n/g, ' ').slice(0, 300)}`),
  '',
];
await writeFileAtomic(join(outDir, 'chaincoder-roundtrip.md'), lines.join('\n'));
log.info(() => `pass rate ${(report.passRate * 100).toFixed(2)}% (${passed}/${eligible.length}); report in ${outDir}`);
