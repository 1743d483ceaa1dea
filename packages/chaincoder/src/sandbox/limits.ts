/**
 * Resource limits applied to every sandboxed run, and their translation into
 * `prlimit` (util-linux) arguments.
 */
import { UsageError } from '@sculpt/core';

export interface SandboxLimits {
  /** Wall-clock limit per run in milliseconds; the whole process tree is killed when it passes. */
  timeoutMs: number;
  /** RLIMIT_AS: address space per process in bytes. */
  memoryBytes: number;
  /** RLIMIT_FSIZE: largest file a process may write, in bytes. */
  fileSizeBytes: number;
  /** RLIMIT_NPROC: processes the sandbox user may own at once (the Python process counts). */
  maxProcesses: number;
  /** RLIMIT_NOFILE: open file descriptors per process. */
  maxOpenFiles: number;
  /** Captured stdout and stderr are each cut at this many bytes, and the run is killed when stdout passes it. */
  maxOutputBytes: number;
}

/** About 4 s per test case, as in the APPS evaluation harness; 1 GiB of address space is enough for CPython plus typical solutions. */
export const DEFAULT_LIMITS: Readonly<SandboxLimits> = {
  timeoutMs: 4_000,
  memoryBytes: 1024 * 1024 * 1024,
  fileSizeBytes: 16 * 1024 * 1024,
  maxProcesses: 32,
  maxOpenFiles: 64,
  maxOutputBytes: 4 * 1024 * 1024,
};

/** Merges overrides into the defaults and rejects values that would disable a limit. */
export function resolveLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new UsageError(`Sandbox limit ${name} must be a positive finite number, got ${String(value)}.`);
    }
  }
  return limits;
}

/**
 * Builds the `prlimit` prefix that sets the limits on the process it then
 * executes. The CPU limit is the wall-clock limit rounded up plus one second,
 * so a busy loop is stopped by the kernel even if the wall-clock timer is late.
 */
export function prlimitArgs(limits: SandboxLimits): string[] {
  const cpuSeconds = Math.ceil(limits.timeoutMs / 1000) + 1;
  return [
    'prlimit',
    `--cpu=${cpuSeconds}`,
    `--as=${Math.floor(limits.memoryBytes)}`,
    `--fsize=${Math.floor(limits.fileSizeBytes)}`,
    `--nproc=${Math.floor(limits.maxProcesses)}`,
    `--nofile=${Math.floor(limits.maxOpenFiles)}`,
    '--core=0',
    '--',
  ];
}
