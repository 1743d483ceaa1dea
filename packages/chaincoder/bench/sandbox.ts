/**
 * Sandbox throughput. Each case runs a batch of BATCH trivial programs (`print`
 * of stdin) at the sandbox's concurrency and reports executions per second.
 * The baseline, measured in the same run, is the same batch of plain
 * `python3 -I -B -c` processes with no namespaces, limits or uid change, so
 * the ratio is the cost of isolation.
 *
 * Sizes: SCULPT_BENCH_SANDBOX_BATCH (default 16) runs per iteration,
 * SCULPT_BENCH_SANDBOX_ITERATIONS (default 10).
 *
 * Run alone: npx tsx --conditions @sculpt/source packages/chaincoder/bench/sandbox.ts
 * (merges its records into bench-results/chaincoder.json).
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { formatBenchTable, mergeBenchRecords, setLogLevel, type BenchRecord } from '@sculpt/core';
import { PythonSandbox, type IsolationKind } from '../src/sandbox/index.js';

const batch = Number(process.env.SCULPT_BENCH_SANDBOX_BATCH ?? 16);
const iterations = Number(process.env.SCULPT_BENCH_SANDBOX_ITERATIONS ?? 10);
const PROGRAM = 'import sys\nprint(sys.stdin.read().strip())\n';

function plainRun(python: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, ['-I', '-B', '-c', PROGRAM], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('close', () => resolvePromise());
    child.stdin.end('hello\n');
  });
}

/** Runs `task` `batch` times with at most `concurrency` in flight. */
async function runBatch(task: () => Promise<void>, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batch) {
      next++;
      await task();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function meanBatchSeconds(task: () => Promise<void>, concurrency: number): Promise<number> {
  const bench = new Bench({ iterations, warmupIterations: 1, time: 0 });
  bench.add('batch', () => runBatch(task, concurrency));
  await bench.run();
  const result = bench.tasks[0].result;
  if (result === undefined || !('latency' in result)) throw new Error('tinybench returned no latency for the sandbox batch');
  return result.latency.mean / 1000;
}

/** Measures sandbox executions/s for each isolation layer that works here. */
export async function benchmarkSandbox(): Promise<BenchRecord[]> {
  const concurrency = availableParallelism();
  const kinds: IsolationKind[] = ['unshare', 'bwrap'];
  const records: BenchRecord[] = [];
  let baseline: number | undefined;
  for (const kind of kinds) {
    let sandbox: PythonSandbox;
    try {
      sandbox = await PythonSandbox.create({ isolation: kind, concurrency });
    } catch {
      continue; // this layer is not available on this machine
    }
    try {
      baseline ??= batch / (await meanBatchSeconds(() => plainRun(sandbox.python), concurrency));
      const value = batch / (await meanBatchSeconds(async () => void (await sandbox.run({ program: PROGRAM, stdin: 'hello\n' })), concurrency));
      records.push({ case: `sandbox executions (${kind}, concurrency ${concurrency})`, device: 'cpu', value, unit: 'runs/s', baseline, ratio: value / baseline });
    } finally {
      await sandbox.close();
    }
  }
  return records;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  setLogLevel('warn');
  const records = await benchmarkSandbox();
  await mergeBenchRecords('chaincoder', records, process.env.SCULPT_BENCH_RESULTS_ROOT);
  process.stdout.write(formatBenchTable(records));
}
