/**
 * A fixed pool of numbered slots: at most `size` holders at once, each with a
 * distinct slot number. The number picks the sandbox uid of a run, so
 * concurrent runs never share a process-count budget.
 */
export class SlotPool {
  private readonly free: number[];
  private readonly waiting: Array<(slot: number) => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`Slot pool size must be a positive integer, got ${size}.`);
    this.free = Array.from({ length: size }, (_, index) => size - 1 - index);
  }

  acquire(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }

  /** Runs `task` while holding a slot and releases the slot afterwards, also on failure. */
  async with<T>(task: (slot: number) => Promise<T>): Promise<T> {
    const slot = await this.acquire();
    try {
      return await task(slot);
    } finally {
      this.release(slot);
    }
  }
}
