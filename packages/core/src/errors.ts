/**
 * Error types shared by every package. The CLI maps UsageError to exit code 2
 * and every other error to exit code 1.
 */

/** Base class for errors that carry a message meant for the user. */
export class SculptError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid command-line usage or configuration: a wrong flag, value or option. */
export class UsageError extends SculptError {}

/** Input data (a file, a record, a model) is missing, malformed or inconsistent. */
export class InputError extends SculptError {
  constructor(
    message: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(file !== undefined && !message.includes(file) ? `${file}: ${message}` : message, options);
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortError extends SculptError {
  constructor(message = 'The operation was aborted') {
    super(message);
  }
}

/**
 * Throws AbortError when the signal has fired; call between steps of long
 * work. A reason that is not already an AbortError (the DOMException of a
 * plain `controller.abort()`, a TimeoutError) is wrapped, so callers need to
 * catch one type only.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof AbortError) throw reason;
    const error = new AbortError(reason instanceof Error && reason.message !== '' ? reason.message : undefined);
    if (reason !== undefined) (error as { cause?: unknown }).cause = reason;
    throw error;
  }
}
