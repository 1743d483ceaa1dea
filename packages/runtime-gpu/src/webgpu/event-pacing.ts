/**
 * Paces Dawn's event polling while this process waits for a software adapter.
 *
 * Dawn's node binding learns that GPU work finished by polling: while any of
 * its promises is pending (onSubmittedWorkDone, mapAsync), it calls
 * ProcessEvents from a native callback that it reschedules with
 * `setImmediate` after every call. That loop keeps one core busy for the whole
 * wait. On a hardware GPU that buys latency, but on a software adapter
 * (lavapipe) the GPU is the CPU: the poll loop takes a core from the
 * adapter's own worker threads. With 2 cores, a 1024² matmul measured
 * 17.9 GFLOP/s with the poll loop and 29.4 GFLOP/s with it paced.
 *
 * `pacedWait` therefore replaces `globalThis.setImmediate` for the duration
 * of a wait: native callbacks (Dawn's) still run at once during the first
 * millisecond of a wait, so short waits keep their latency, and after that
 * they run from a 1 ms timer. Callbacks written in JavaScript are never
 * delayed. Dawn looks `setImmediate` up on the global object each time it
 * reschedules, which is what makes the replacement take effect.
 */

/** How long a wait polls at full speed before the polls are spaced out. */
const EAGER_POLL_MS = 1;

/** Gap between paced polls. Node's timers have a resolution of 1 ms. */
const PACED_POLL_MS = 1;

type SetImmediate = typeof globalThis.setImmediate;

let originalSetImmediate: SetImmediate | null = null;
let installed: SetImmediate | null = null;
let activeWaits = 0;
let waitStartedAt = 0;
let pacingDisabled = false;

/** Turns pacing off (or back on) for the whole process, e.g. to compare both behaviours in a benchmark; returns the previous setting. */
export function setEventPacing(enabled: boolean): boolean {
  const previous = !pacingDisabled;
  pacingDisabled = !enabled;
  return previous;
}

function isNativeFunction(callback: unknown): boolean {
  return typeof callback === 'function' && Function.prototype.toString.call(callback).endsWith('{ [native code] }');
}

function pacedSetImmediate(original: SetImmediate): SetImmediate {
  const paced = (callback: (...args: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate => {
    if (isNativeFunction(callback) && performance.now() - waitStartedAt > EAGER_POLL_MS) {
      // NOTE: the caller gets a Timeout, so clearImmediate cannot cancel a paced poll. Dawn's binding was not seen to cancel its polls.
      return setTimeout(callback, PACED_POLL_MS, ...args) as unknown as NodeJS.Immediate;
    }
    return original(callback, ...args);
  };
  // util.promisify(setImmediate) and similar read this property.
  return Object.assign(paced, { __promisify__: original.__promisify__ }) as SetImmediate;
}

/**
 * Awaits `start()`, a Dawn promise, with paced polling when `software` is true.
 * Nested and concurrent waits share one replacement; the original
 * `setImmediate` is back once the last of them settles.
 */
export async function pacedWait<T>(software: boolean, start: () => Promise<T>): Promise<T> {
  if (!software || pacingDisabled) return start();

  if (activeWaits === 0) {
    originalSetImmediate = globalThis.setImmediate;
    installed = pacedSetImmediate(originalSetImmediate);
    globalThis.setImmediate = installed;
    waitStartedAt = performance.now();
  }
  activeWaits++;
  try {
    return await start();
  } finally {
    activeWaits--;
    if (activeWaits === 0 && originalSetImmediate) {
      // Leave a replacement that someone else installed meanwhile (fake timers in a test) in place.
      if (globalThis.setImmediate === installed) globalThis.setImmediate = originalSetImmediate;
      originalSetImmediate = null;
      installed = null;
    }
  }
}
