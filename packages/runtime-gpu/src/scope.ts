/**
 * Scoped disposal. `scope(fn)` disposes every tensor created while `fn` runs,
 * except the tensors found in its return value (directly, or inside arrays,
 * Maps, Sets and plain objects). Kept tensors move to the enclosing scope.
 *
 * `fn` may be async: the scope follows the async context (AsyncLocalStorage),
 * so concurrent scopes do not capture each other's tensors, and the scope
 * closes when the returned promise settles. Tensors created outside any
 * scope are owned by the caller.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tensor } from './tensor.js';

type Frame = Set<Tensor>;

const frames = new AsyncLocalStorage<Frame>();

/** Registers a new tensor with the innermost scope; called by the Tensor constructor. */
export function trackTensor(tensor: Tensor): void {
  frames.getStore()?.add(tensor);
}

/** Removes a tensor from the innermost scope so it survives the scope's end. */
export function keep<T extends Tensor>(tensor: T): T {
  frames.getStore()?.delete(tensor);
  return tensor;
}

export function scope<T>(fn: () => T): T {
  const parent = frames.getStore();
  const frame: Frame = new Set();
  let result: T;
  try {
    result = frames.run(frame, fn);
  } catch (error) {
    closeFrame(frame, parent, undefined);
    throw error;
  }

  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        closeFrame(frame, parent, value);
        return value;
      },
      (error: unknown) => {
        closeFrame(frame, parent, undefined);
        throw error;
      },
    ) as T;
  }

  closeFrame(frame, parent, result);
  return result;
}

function closeFrame(frame: Frame, parent: Frame | undefined, result: unknown): void {
  const kept = new Set<Tensor>();
  collectTensors(result, kept, new Set());
  for (const tensor of frame) {
    if (kept.has(tensor)) parent?.add(tensor);
    else tensor.dispose();
  }
  frame.clear();
}

function collectTensors(value: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value) || value instanceof Set) {
    for (const item of value) collectTensors(item, out, seen);
    return;
  }
  if (value instanceof Map) {
    for (const item of value.values()) collectTensors(item, out, seen);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) collectTensors(item, out, seen);
  }
}

function isTensor(value: object): value is Tensor {
  return 'describe' in value && 'storage' in value && 'device' in value && 'shape' in value;
}
