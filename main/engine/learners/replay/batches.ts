// Batch plans for the trainer: epochs of seeded permutations cut into full batches, and the
// learning-rate schedule that goes with them.
import { seededRandom, shuffleInPlace } from '../seeded-random.js';

/**
 * `epochs` passes over `count` samples in shuffled order, as steps × batchSize indices. The
 * permutations are concatenated and cut into batches, so a batch may straddle two epochs and
 * every sample is seen exactly `epochs` times (the tail is topped up from the start of the stream).
 */
export function planBatches(count: number, epochs: number, batchSize: number, seed: number): { batches: Int32Array; steps: number; batchSize: number } {
  const size = Math.max(1, Math.min(batchSize, count));
  if (count === 0 || epochs <= 0) return { batches: new Int32Array(0), steps: 0, batchSize: size };
  const random = seededRandom(seed);
  const total = count * epochs;
  const steps = Math.ceil(total / size);
  const batches = new Int32Array(steps * size);
  const order = new Int32Array(count);
  for (let filled = 0; filled < batches.length; ) {
    for (let i = 0; i < count; i++) order[i] = i;
    shuffleInPlace(order, random);
    const take = Math.min(count, batches.length - filled);
    batches.set(order.subarray(0, take), filled);
    filled += take;
  }
  return { batches, steps, batchSize: size };
}

/** Cosine decay from 1 to 0 over `steps` (evaluated at step midpoints, so no step has rate 0). */
export function cosineSchedule(steps: number): Float32Array {
  const schedule = new Float32Array(steps);
  for (let s = 0; s < steps; s++) schedule[s] = 0.5 * (1 + Math.cos((Math.PI * (s + 0.5)) / steps));
  return schedule;
}
