/**
 * Errors raised by runtime-gpu. Each message names the op, the shapes and the
 * device involved, so a failure deep inside a pipeline can be traced to its call.
 */
import { SculptError } from '@sculpt/core';

/** Base class of every runtime error. */
export class RuntimeGpuError extends SculptError {}

/** Input shapes do not fit the op (wrong rank, inner dimensions differ, not broadcastable). */
export class ShapeError extends RuntimeGpuError {}

/** An input has a dtype the op or the device does not accept. */
export class DTypeError extends RuntimeGpuError {}

/** A tensor or device was used after `dispose()`. */
export class DisposedError extends RuntimeGpuError {}

/** Inputs live on different devices, or no kernel is registered for the name on that device. */
export class DeviceMismatchError extends RuntimeGpuError {}

/** No kernel is registered under the name for the input's device. */
export class KernelNotFoundError extends RuntimeGpuError {}

/** A buffer or dispatch exceeds a limit of the adapter and cannot be split. */
export class LimitError extends RuntimeGpuError {}

/** No WebGPU adapter could be obtained (driver missing, or only a rejected fallback adapter). */
export class NoAdapterError extends RuntimeGpuError {}

/** The GPU device was lost or reported an uncaptured validation or out-of-memory error. */
export class DeviceLostError extends RuntimeGpuError {}

/**
 * Cholesky factorization met a pivot that is not positive, so the matrix is
 * not (numerically) positive definite. `pivotIndex` is the failing column.
 */
export class NotPositiveDefiniteError extends RuntimeGpuError {
  constructor(
    message: string,
    readonly pivotIndex: number,
    readonly pivotValue: number,
  ) {
    super(message);
  }
}
