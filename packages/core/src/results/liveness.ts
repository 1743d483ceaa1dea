/** Whether the process that owns a run is still alive. */
import os from 'node:os';

/**
 * True when a process with this id exists on this machine. Signal 0 checks
 * existence without sending anything. EPERM means the process exists but
 * belongs to another user, so it counts as alive.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function hostName(): string {
  return os.hostname();
}
