// Class-balanced reservoir sampling: each class keeps a uniform sample of every sample of that
// class it has ever been given, whatever the order they came in (Vitter's algorithm R, per class).

/**
 * Streams `incoming` new samples of one class into a reservoir of `slots` entries that already
 * holds `current` entries drawn from `seenBefore` samples. Returns the reservoir's content as
 * indices: < current.length for kept old entries, current.length + i for incoming sample i.
 */
export function reservoirUpdate(currentSize: number, seenBefore: number, incoming: number, slots: number, random: () => number): number[] {
  const reservoir = Array.from({ length: Math.min(currentSize, slots) }, (_, i) => i);
  let seen = seenBefore;
  for (let i = 0; i < incoming; i++) {
    seen++;
    const candidate = currentSize + i;
    if (reservoir.length < slots) {
      reservoir.push(candidate);
      continue;
    }
    const j = Math.floor(random() * seen);
    if (j < slots) reservoir[j] = candidate;
  }
  return reservoir;
}
