/** Timing and memory helpers shared by the pruning benchmark cases. */
import { Bench } from 'tinybench';

/** Mean milliseconds of one run of each function (one iteration each, because the cases take seconds). */
export async function timePair(name: string, ours: () => Promise<unknown>, baseline: () => Promise<unknown>): Promise<{ ours: number; baseline: number }> {
  const bench = new Bench({ iterations: 1, time: 0, warmup: false });
  bench.add(`${name} sculpt`, ours);
  bench.add(`${name} baseline`, baseline);
  await bench.run();
  return { ours: meanLatency(bench, `${name} sculpt`), baseline: meanLatency(bench, `${name} baseline`) };
}

/** Mean milliseconds of one run of `work`. */
export async function timeOnce(name: string, work: () => Promise<unknown>): Promise<number> {
  const bench = new Bench({ iterations: 1, time: 0, warmup: false });
  bench.add(name, work);
  await bench.run();
  return meanLatency(bench, name);
}

function meanLatency(bench: Bench, task: string): number {
  const result = bench.getTask(task)!.result;
  if (result.state !== 'completed') throw new Error(`benchmark task ${task} did not complete (${result.state})`);
  return result.latency.mean;
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export const MIB = 2 ** 20;

/** Reads a positive scale factor from the environment. */
export function scaleFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw new Error(`${name} must be a number in (0, 1], got "${text}"`);
  return value;
}

/** Reads a comma-separated list from the environment, each value one of `allowed`. */
export function listFromEnv(name: string, fallback: string[], allowed: string[]): string[] {
  const text = process.env[name];
  const values = text === undefined || text === '' ? fallback : text.split(',').map((value) => value.trim());
  for (const value of values) if (!allowed.includes(value)) throw new Error(`${name} contains "${value}"; expected a comma-separated subset of ${allowed.join(', ')}`);
  return values;
}
