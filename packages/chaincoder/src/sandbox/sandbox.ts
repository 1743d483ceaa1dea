/**
 * Runs untrusted Python programs: one `python3` process per run in a fresh
 * directory, stdin fed and closed, stdout and stderr captured, resource
 * limits, no network, a scrubbed environment, and the whole process tree
 * killed on timeout. See isolation.ts for how the isolation is built.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, SculptError, UsageError, getLogger } from '@sculpt/core';
import {
  SETUP_FAILURE_EXIT_CODE,
  SETUP_FAILURE_MARKER,
  buildIsolatedCommand,
  SANDBOX_WORK_DIRECTORY,
  type IsolationKind,
} from './isolation.js';
import { resolveLimits, type SandboxLimits } from './limits.js';
import { SlotPool } from './slots.js';

const log = getLogger('chaincoder:sandbox');

const SCRIPT_NAME = 'main.py';
const PYTHON_SEARCH_PATH = ['/usr/local/bin/python3', '/usr/bin/python3', '/bin/python3'];

/**
 * Sandbox uids start here. Each sandbox gets its own block of MAX_CONCURRENCY
 * uids, chosen from the process id and a per-process counter, so sandboxes of
 * concurrent processes (parallel test workers, two CLI runs) rarely share a
 * uid and thus a process-count budget. No account needs to exist for a uid.
 */
export const SANDBOX_UID_FLOOR = 100_000;
export const MAX_CONCURRENCY = 64;
const UID_BLOCKS_PER_PROCESS = 16;
let sandboxesCreated = 0;

function defaultUidBase(): number {
  const block = (process.pid % 4096) * UID_BLOCKS_PER_PROCESS + (sandboxesCreated++ % UID_BLOCKS_PER_PROCESS);
  return SANDBOX_UID_FLOOR + block * MAX_CONCURRENCY;
}

export interface SandboxOptions {
  /** Isolation layer; `auto` tries `unshare`, then `bwrap`, and fails when neither works. */
  isolation?: IsolationKind | 'auto';
  /** Absolute path of python3. Default: $SCULPT_PYTHON, else the first of /usr/local/bin, /usr/bin, /bin. */
  python?: string;
  /** Runs at once; default: the number of available cores. */
  concurrency?: number;
  /** Default limits of every run; a run may override them. */
  limits?: Partial<SandboxLimits>;
  /** First uid of the per-slot sandbox users (used only when running as root); default: a block derived from the process id. */
  uidBase?: number;
  /** Parent directory of the run directories; default: the OS temporary directory. */
  temporaryDirectory?: string;
}

export interface RunRequest {
  /** Python source written to main.py in the run directory. */
  program: string;
  /** Written to stdin, which is then closed. */
  stdin?: string;
  limits?: Partial<SandboxLimits>;
  signal?: AbortSignal;
}

/**
 * Outcome of a run: `exited` (normally, with any exit code), `timeout` (the
 * wall-clock limit passed and the tree was killed) or `output-limit` (stdout
 * grew past the limit and the tree was killed).
 */
export type RunStatus = 'exited' | 'timeout' | 'output-limit';

export interface RunResult {
  status: RunStatus;
  /** Exit code of Python; null when the sandbox killed the run. */
  exitCode: number | null;
  /** Signal that ended Python (for example SIGXCPU after the CPU limit, SIGKILL), when known. */
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

function findPython(explicit: string | undefined): string {
  const configured = explicit ?? process.env.SCULPT_PYTHON;
  if (configured !== undefined && configured !== '') {
    if (!existsSync(configured)) {
      throw new UsageError(`Python interpreter ${configured} was not found; set SCULPT_PYTHON to an absolute path of python3.`);
    }
    return configured;
  }
  const found = PYTHON_SEARCH_PATH.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw new UsageError(
      `python3 was not found in ${PYTHON_SEARCH_PATH.join(', ')}; install it (apt-get install python3) or set SCULPT_PYTHON.`,
    );
  }
  return found;
}

/** Maps the shell convention "128 + signal number" to a signal name. */
function signalFromExitCode(code: number): string | null {
  if (code <= 128 || code > 128 + 64) return null;
  const number = code - 128;
  const entry = Object.entries(osConstants.signals).find(([, value]) => value === number);
  return entry ? entry[0] : null;
}

/** Collects a stream's bytes up to a cap and reports when the cap was passed. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  overflowed = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    const room = this.cap - this.length;
    if (chunk.length > room) {
      this.overflowed = true;
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.length = this.cap;
      return;
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export class PythonSandbox {
  private readonly slots: SlotPool;
  private closed = false;

  private constructor(
    readonly isolation: IsolationKind,
    readonly python: string,
    private readonly rootDirectory: string,
    private readonly defaultLimits: SandboxLimits,
    private readonly uidBase: number | undefined,
    concurrency: number,
  ) {
    this.slots = new SlotPool(concurrency);
  }

  /**
   * Creates a sandbox and checks that its isolation layer works by running a
   * probe program through it. Throws when no requested layer works, listing
   * why each failed.
   */
  static async create(options: SandboxOptions = {}): Promise<PythonSandbox> {
    const python = findPython(options.python);
    const limits = resolveLimits(options.limits);
    const concurrency = options.concurrency ?? availableParallelism();
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new UsageError(`Sandbox concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${String(concurrency)}.`);
    }
    const isRoot = process.getuid?.() === 0;
    const uidBase = isRoot ? (options.uidBase ?? defaultUidBase()) : undefined;

    const rootDirectory = await mkdtemp(join(options.temporaryDirectory ?? tmpdir(), 'sculpt-sandbox-'));
    // Traversable but not listable or writable by the sandbox users, so `..` from a run directory leads nowhere useful.
    await chmod(rootDirectory, 0o711);

    const requested = options.isolation ?? 'auto';
    const candidates: IsolationKind[] = requested === 'auto' ? ['unshare', 'bwrap'] : [requested];
    const failures: string[] = [];
    for (const kind of candidates) {
      const sandbox = new PythonSandbox(kind, python, rootDirectory, limits, uidBase, concurrency);
      const failure = await sandbox.probe();
      if (failure === undefined) {
        log.info(() => `Python sandbox ready: isolation=${kind}, python=${python}, concurrency=${concurrency}`);
        return sandbox;
      }
      failures.push(`${kind}: ${failure}`);
      log.debug(() => `Sandbox isolation ${kind} is not usable: ${failure}`);
    }
    await rm(rootDirectory, { recursive: true, force: true });
    throw new SculptError(
      `No working sandbox for untrusted Python (${failures.join('; ')}). ` +
        'Run as root so `unshare` can create namespaces, or install bubblewrap (apt-get install bubblewrap).',
    );
  }

  /** Returns undefined when a trivial program runs correctly, else the reason it did not. */
  private async probe(): Promise<string | undefined> {
    try {
      const result = await this.run({ program: 'print("sandbox-ok")\n', limits: { timeoutMs: 20_000 } });
      if (result.status === 'exited' && result.exitCode === 0 && result.stdout.trim() === 'sandbox-ok') return undefined;
      return `probe ended with status=${result.status} exit=${String(result.exitCode)} stderr=${JSON.stringify(result.stderr.trim().slice(0, 300))}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** The uids runs may use, [first, last]; undefined when not running as root (then runs keep the caller's uid). */
  get uidRange(): [number, number] | undefined {
    return this.uidBase === undefined ? undefined : [this.uidBase, this.uidBase + this.slots.size - 1];
  }

  /** Runs one program; waits for a free slot first. */
  run(request: RunRequest): Promise<RunResult> {
    if (this.closed) throw new SculptError('The Python sandbox is closed; create a new one.');
    return this.slots.with((slot) => this.runInSlot(request, slot));
  }

  /** Removes the sandbox's directory. Runs still in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    await rm(this.rootDirectory, { recursive: true, force: true });
  }

  private async runInSlot(request: RunRequest, slot: number): Promise<RunResult> {
    const limits = resolveLimits({ ...this.defaultLimits, ...request.limits });
    const uid = this.uidBase === undefined ? undefined : this.uidBase + slot;
    const workDirectory = join(this.rootDirectory, `run-${slot}-${process.hrtime.bigint().toString(36)}`);
    await mkdir(workDirectory, { mode: 0o700 });
    try {
      await writeFile(join(workDirectory, SCRIPT_NAME), request.program, { mode: 0o644 });
      if (uid !== undefined) await chown(workDirectory, uid, uid);
      const { command, args } = buildIsolatedCommand({
        kind: this.isolation,
        workDirectory,
        scriptName: SCRIPT_NAME,
        python: this.python,
        limits,
        uid,
      });
      return await execute(command, args, scrubbedEnvironment(SANDBOX_WORK_DIRECTORY), request, limits);
    } finally {
      await rm(workDirectory, { recursive: true, force: true });
    }
  }
}

/** Environment of a sandboxed program, and nothing else. HOME and TMPDIR point at its own directory. */
function scrubbedEnvironment(home: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    PYTHONIOENCODING: 'utf-8',
  };
}

function execute(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  request: RunRequest,
  limits: SandboxLimits,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (request.signal?.aborted) {
      reject(new AbortError());
      return;
    }
    const started = performance.now();
    // detached: the child leads a new process group, so one kill(-pid) reaches the whole tree.
    const child = spawn(command, args, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout = new CappedBuffer(limits.maxOutputBytes);
    const stderr = new CappedBuffer(limits.maxOutputBytes);
    let killedFor: RunStatus | 'abort' | undefined;

    const killTree = (reason: RunStatus | 'abort'): void => {
      if (killedFor !== undefined || child.pid === undefined) return;
      killedFor = reason;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (error) {
        // ESRCH: the group is already gone, which is the goal.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    };
    const timer = setTimeout(() => killTree('timeout'), limits.timeoutMs);
    const onAbort = (): void => killTree('abort');
    request.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      if (stdout.overflowed) killTree('output-limit');
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A program that exits without reading stdin closes the pipe; EPIPE is expected then.
    child.stdin.on('error', () => undefined);
    child.stdin.end(request.stdin ?? '');

    child.on('error', (error) => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      reject(new SculptError(`Failed to start ${command} for a sandboxed run: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      const durationMs = performance.now() - started;
      if (killedFor === 'abort') {
        reject(new AbortError('The sandboxed run was aborted'));
        return;
      }
      const stderrText = stderr.text();
      if (code === SETUP_FAILURE_EXIT_CODE && stderrText.includes(SETUP_FAILURE_MARKER)) {
        reject(new SculptError(`The sandbox could not be set up: ${stderrText.trim()}`));
        return;
      }
      const status: RunStatus = killedFor ?? 'exited';
      resolve({
        status,
        exitCode: status === 'exited' ? code : null,
        signal: signal ?? (code === null ? null : signalFromExitCode(code)),
        stdout: stdout.text(),
        stderr: stderrText,
        durationMs,
      });
    });
  });
}
