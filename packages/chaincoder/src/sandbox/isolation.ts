/**
 * Builds the command line that runs `python3` inside an isolation layer.
 *
 * Two layers are supported, both made of standard Linux tools:
 * - `unshare` (util-linux): new network, mount, PID, IPC and UTS namespaces.
 *   It needs root. A small `sh` script inside mounts empty tmpfs file systems
 *   over the shared writable and private directories before it starts Python.
 * - `bwrap` (bubblewrap): the same namespaces, a read-only view of `/`, and
 *   the same tmpfs mounts. It works without root through a user namespace.
 *
 * Under both, `prlimit` sets the resource limits and, when the caller is root,
 * `setpriv` drops to a per-slot unprivileged uid. That uid makes RLIMIT_NPROC
 * effective (root ignores it), denies writes to files owned by others and lets
 * concurrent runs neither signal nor count against each other.
 */
import { existsSync, lstatSync } from 'node:fs';
import { SculptError } from '@sculpt/core';
import { prlimitArgs, type SandboxLimits } from './limits.js';

export type IsolationKind = 'unshare' | 'bwrap';

/** Directories hidden behind an empty tmpfs: shared scratch space, sockets under /run, and users' homes. */
const MASKED_DIRECTORIES = ['/tmp', '/var/tmp', '/dev/shm', '/run', '/home', '/root', '/mnt', '/media', '/srv'];

/** Exit status of the `sh` setup script when a mount fails; paired with a marker on stderr. */
export const SETUP_FAILURE_EXIT_CODE = 125;
export const SETUP_FAILURE_MARKER = 'sculpt-sandbox: setup failed';

/** Path of the run directory inside the sandbox, in its private /tmp. */
export const SANDBOX_WORK_DIRECTORY = '/tmp/sandbox';

export interface IsolatedCommand {
  command: string;
  args: string[];
}

export interface IsolationRequest {
  kind: IsolationKind;
  /** Absolute path of the run's working directory on the host. */
  workDirectory: string;
  /** Script file name inside the working directory. */
  scriptName: string;
  /** Absolute path of the Python interpreter; it must be readable by the sandbox uid. */
  python: string;
  limits: SandboxLimits;
  /** The uid and gid to run as, or undefined to keep the caller's (only when the caller is not root). */
  uid: number | undefined;
}

function maskedDirectories(): string[] {
  return MASKED_DIRECTORIES.filter((directory) => {
    if (!existsSync(directory)) return false;
    return lstatSync(directory).isDirectory();
  });
}

/** `setpriv` prefix that drops every privilege, or nothing when no uid change is requested. */
function dropPrivilegesArgs(uid: number | undefined): string[] {
  if (uid === undefined) return [];
  return [
    'setpriv',
    `--reuid=${uid}`,
    `--regid=${uid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
  ];
}

/**
 * The `sh` script run as PID 1 of the new PID namespace. It masks the
 * directories with empty tmpfs mounts and moves the run directory to
 * /tmp/sandbox. The run directory lives under a masked directory itself, so
 * it is first bind-mounted into the tmpfs of a masked directory that is not
 * its ancestor (the "stage"), then moved once /tmp is masked.
 *
 * The script stays alive as the namespace's init instead of exec'ing Python,
 * because killing PID 1 makes the kernel kill every process in the
 * namespace, including ones that left the process group with setsid().
 *
 * Arguments: work directory, stage directory, other masked directories, `--`, command.
 */
const UNSHARE_SETUP_SCRIPT = [
  'work="$1"; stage="$2"; shift 2',
  `fail() { echo "${SETUP_FAILURE_MARKER}: $1" >&2; exit ${SETUP_FAILURE_EXIT_CODE}; }`,
  'mask() { mount -t tmpfs -o size=16m,nosuid,nodev sculpt-sandbox "$1" || fail "mount $1"; }',
  'mask "$stage"',
  'mkdir "$stage/work" && mount --bind "$work" "$stage/work" || fail "bind $work"',
  'while [ "$1" != "--" ]; do mask "$1"; shift; done',
  'shift',
  `mkdir -p ${SANDBOX_WORK_DIRECTORY} && mount --move "$stage/work" ${SANDBOX_WORK_DIRECTORY} || fail "move to ${SANDBOX_WORK_DIRECTORY}"`,
  `cd ${SANDBOX_WORK_DIRECTORY} || fail cd`,
  // Read-only root as a second guard behind the uid change; the masks and the run directory are separate mounts and stay writable.
  'mount -o remount,bind,ro / || fail "read-only /"',
  '"$@"',
].join('\n');

function isAncestor(directory: string, path: string): boolean {
  return path === directory || path.startsWith(directory.endsWith('/') ? directory : `${directory}/`);
}

function unshareCommand(request: IsolationRequest, inner: string[]): IsolatedCommand {
  const masked = maskedDirectories();
  if (!masked.includes('/tmp')) throw new SculptError('The sandbox needs a /tmp directory to mount its run directory on.');
  const stage = masked.find((directory) => directory !== '/tmp' && !isAncestor(directory, request.workDirectory));
  if (stage === undefined) {
    throw new SculptError(`No directory among ${masked.join(', ')} can stage the sandbox run directory ${request.workDirectory}.`);
  }
  return {
    command: 'unshare',
    args: [
      '--net',
      '--mount',
      '--pid',
      '--ipc',
      '--uts',
      '--fork',
      '--kill-child',
      '--mount-proc',
      '--',
      '/bin/sh',
      '-c',
      UNSHARE_SETUP_SCRIPT,
      'sculpt-sandbox',
      request.workDirectory,
      stage,
      ...masked.filter((directory) => directory !== stage),
      '--',
      ...inner,
    ],
  };
}

function bwrapCommand(request: IsolationRequest, inner: string[]): IsolatedCommand {
  // Without root, bubblewrap needs a user namespace for its mounts; --unshare-all requests one (and the network namespace).
  const namespaces =
    request.uid === undefined
      ? ['--unshare-all']
      : ['--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  const masks = maskedDirectories()
    .filter((directory) => directory !== '/dev/shm')
    .flatMap((directory) => ['--tmpfs', directory]);
  return {
    command: 'bwrap',
    args: [
      ...namespaces,
      '--die-with-parent',
      '--new-session',
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--tmpfs',
      '/dev/shm',
      '--proc',
      '/proc',
      ...masks,
      '--bind',
      request.workDirectory,
      SANDBOX_WORK_DIRECTORY,
      '--chdir',
      SANDBOX_WORK_DIRECTORY,
      '--',
      ...inner,
    ],
  };
}

/** Returns the full command line for one isolated run of `python -I -B <script>`. */
export function buildIsolatedCommand(request: IsolationRequest): IsolatedCommand {
  // -I: ignore PYTHON* variables and the user site directory; -B: write no .pyc files.
  const inner = [
    ...prlimitArgs(request.limits),
    ...dropPrivilegesArgs(request.uid),
    request.python,
    '-I',
    '-B',
    request.scriptName,
  ];
  switch (request.kind) {
    case 'unshare':
      return unshareCommand(request, inner);
    case 'bwrap':
      return bwrapCommand(request, inner);
  }
}
