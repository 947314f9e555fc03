// Cooperative progress, cancellation and yielding for long updates.

import type { UpdateContext } from './learner.js';

/**
 * Reports progress, throws if the update was aborted, and yields to the event loop so that the
 * abort (and anything else queued, e.g. UI messages) can actually arrive between work chunks.
 */
export async function checkpoint(context: UpdateContext, done: number, total: number): Promise<void> {
  context.signal?.throwIfAborted();
  context.onProgress?.(done, total);
  await new Promise<void>((resolve) => setImmediate(resolve));
  context.signal?.throwIfAborted();
}
