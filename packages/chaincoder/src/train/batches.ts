/**
 * Batches of training instances: each epoch shuffles the instances with the
 * seeded generator and cuts them into disjoint blocks, so every instance is
 * seen once per epoch. (The reference drew overlapping windows whose start
 * was never multiplied by the batch size, so most instances were never seen.)
 */
import { Random, UsageError } from '@sculpt/core';

/** Instance indices of every batch of one epoch; the last batch may be smaller. */
export function epochBatches(instanceCount: number, batchSize: number, seed: number, epoch: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`Batch size must be a positive integer, got ${batchSize}.`);
  if (!Number.isInteger(instanceCount) || instanceCount < 0) throw new UsageError(`Instance count must be a non-negative integer, got ${instanceCount}.`);
  // One stream per epoch, so resuming at an epoch boundary reproduces its order without replaying earlier epochs.
  const order = new Random(seed * 7919 + epoch).shuffle(Array.from({ length: instanceCount }, (_, index) => index));
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

/**
 * Draws `count` items for one instance: without replacement when there are
 * enough, otherwise all of them plus random repeats (as the reference does).
 */
export function drawItems<T>(items: readonly T[], count: number, random: Random): T[] {
  if (items.length === 0) throw new UsageError('Cannot draw from an instance with no items.');
  const shuffled = random.shuffle([...items]);
  if (count <= shuffled.length) return shuffled.slice(0, count);
  const extra = Array.from({ length: count - shuffled.length }, () => items[random.int(0, items.length - 1)]);
  return [...shuffled, ...extra];
}
