/**
 * Tokenizer throughput on the installed Python standard library: encode
 * (tree-sitter parse, conversion, renaming, S1–S4) plus serializing the
 * target and decoding it back to source, per file. Reported as files/s and
 * tokens/s (S3 + S4 tokens). The baseline, measured in the same run on the
 * same files, is CPython's `ast.parse` + `ast.dump` timed inside python3
 * (file reading excluded on both sides).
 *
 * Size: SCULPT_BENCH_TOKENIZER_FILES (default 300) stdlib files, every k-th
 * file of the sorted list, so the subset spans the library. Files the
 * tokenizer does not support are left out of both measurements.
 *
 * Run alone: npx tsx --conditions @sculpt/source packages/chaincoder/bench/tokenizer.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { formatBenchTable, mergeBenchRecords, setLogLevel, type BenchRecord } from '@sculpt/core';
import { createProgramTokenizer, decodeProgram, listPythonFiles, serializeTarget } from '../src/tokenizer/index.js';

const fileCount = Number(process.env.SCULPT_BENCH_TOKENIZER_FILES ?? 300);
const ITERATIONS = 3;

const PYTHON_BASELINE = `
import ast, json, sys, time
paths = json.load(sys.stdin)
sources = [open(p, encoding="utf-8").read().lstrip("\\ufeff") for p in paths]
best = float("inf")
for _ in range(${ITERATIONS}):
    start = time.perf_counter()
    for source in sources:
        ast.dump(ast.parse(source))
    best = min(best, time.perf_counter() - start)
print(json.dumps({"seconds": best}))
`;

export async function benchmarkTokenizer(): Promise<BenchRecord[]> {
  const stdlib = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])']).toString().trim();
  const all = await listPythonFiles(stdlib);
  const step = Math.max(1, Math.floor(all.length / fileCount));
  const candidates = all.filter((_, i) => i % step === 0).slice(0, fileCount);

  const tokenizer = await createProgramTokenizer();
  const corpus: { path: string; source: string }[] = [];
  for (const path of candidates) {
    const source = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
    try {
      decodeProgram(serializeTarget(tokenizer.encode(source, { poolSize: Number.MAX_SAFE_INTEGER })));
      corpus.push({ path, source });
    } catch {
      // Unsupported or unparsable files are left out of both sides.
    }
  }

  let tokens = 0;
  const bench = new Bench({ iterations: ITERATIONS, warmupIterations: 1, time: 0 });
  bench.add('tokenize+detokenize', () => {
    tokens = 0;
    for (const { source } of corpus) {
      const encoded = tokenizer.encode(source, { poolSize: Number.MAX_SAFE_INTEGER });
      tokens += encoded.s3.length + encoded.s4.length;
      decodeProgram(serializeTarget(encoded));
    }
  });
  await bench.run();
  const result = bench.tasks[0].result;
  if (result === undefined || !('latency' in result)) throw new Error('tinybench returned no latency for the tokenizer');
  const seconds = result.latency.min / 1000;

  const python = spawnSync('python3', ['-c', PYTHON_BASELINE], { input: JSON.stringify(corpus.map((c) => c.path)), maxBuffer: 1 << 20 });
  if (python.status !== 0) throw new Error(`python3 baseline failed: ${python.stderr.toString()}`);
  const baselineSeconds = (JSON.parse(python.stdout.toString()) as { seconds: number }).seconds;

  const files = corpus.length;
  // The case names stay the same for any file count, so a rerun replaces its records; the count is in the log line below.
  process.stderr.write(`tokenizer benchmark: ${files} of ${candidates.length} sampled stdlib files supported\n`);
  const label = 'stdlib subset';
  return [
    {
      case: `tokenize+detokenize files/s (${label}; baseline python3 ast.parse+ast.dump)`,
      device: 'cpu',
      value: files / seconds,
      unit: 'files/s',
      baseline: files / baselineSeconds,
      ratio: baselineSeconds / seconds,
    },
    {
      case: `tokenize+detokenize tokens/s (${label}; baseline python3 ast.parse+ast.dump)`,
      device: 'cpu',
      value: tokens / seconds,
      unit: 'tokens/s',
      baseline: tokens / baselineSeconds,
      ratio: baselineSeconds / seconds,
    },
  ];
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  setLogLevel('warn');
  const records = await benchmarkTokenizer();
  await mergeBenchRecords('chaincoder', records, process.env.SCULPT_BENCH_RESULTS_ROOT);
  process.stdout.write(formatBenchTable(records));
}
