/**
 * Storage-buffer pool with size buckets. A released buffer may still be
 * referenced by recorded but unsubmitted commands, so it waits in a pending
 * list and becomes reusable only after the next queue submit.
 */
import { getLogger } from '@sculpt/core';

const log = getLogger('runtime-gpu:webgpu');

/** Buckets: powers of two up to 1 MiB, then steps of an eighth of the enclosing power of two. */
export function bucketSize(bytes: number): number {
  const size = Math.max(256, Math.ceil(bytes / 16) * 16);
  const power = 2 ** Math.ceil(Math.log2(size));
  if (power <= 2 ** 20) return power;
  const step = power / 8;
  return Math.ceil(size / step) * step;
}

const MAX_FREE_PER_BUCKET = 16;
const MAX_FREE_BYTES = 512 * 2 ** 20;

export class BufferPool {
  readonly #free = new Map<string, GPUBuffer[]>();
  #pending: { key: string; buffer: GPUBuffer }[] = [];
  #freeBytes = 0;
  allocatedBytes = 0;

  constructor(readonly device: GPUDevice) {}

  acquire(bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = bucketSize(bytes);
    const key = `${usage}:${size}`;
    const reused = this.#free.get(key)?.pop();
    if (reused) {
      this.#freeBytes -= size;
      return reused;
    }
    this.allocatedBytes += size;
    return this.device.createBuffer({ size, usage });
  }

  /** Returns a buffer; it becomes reusable after the next `onSubmit()`. */
  release(buffer: GPUBuffer): void {
    this.#pending.push({ key: `${buffer.usage}:${buffer.size}`, buffer });
  }

  /** Called after each queue submit: pending buffers are now safe to reuse. */
  onSubmit(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const { key, buffer } of pending) {
      const list = this.#free.get(key) ?? [];
      if (list.length >= MAX_FREE_PER_BUCKET || this.#freeBytes + buffer.size > MAX_FREE_BYTES) {
        this.allocatedBytes -= buffer.size;
        buffer.destroy();
        continue;
      }
      list.push(buffer);
      this.#free.set(key, list);
      this.#freeBytes += buffer.size;
    }
  }

  dispose(): void {
    for (const list of this.#free.values()) for (const buffer of list) buffer.destroy();
    for (const { buffer } of this.#pending) buffer.destroy();
    log.debug(() => `buffer pool released (${this.allocatedBytes} bytes were allocated)`);
    this.#free.clear();
    this.#pending = [];
    this.#freeBytes = 0;
    this.allocatedBytes = 0;
  }
}
