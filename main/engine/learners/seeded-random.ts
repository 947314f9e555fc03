// Seeded randomness: every shuffle and draw of the replay learner (and of the benchmarks) comes
// from here, so a version trained twice from the same previous state and delta is bit-identical.

/** mulberry32: small, fast, and the same sequence on every platform. Returns values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a base seed with the update counter, so each version shuffles differently yet reproducibly. */
export function versionSeed(seed: number, updateIndex: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(updateIndex + 1, 0x85ebca6b)) >>> 0;
}

export function shuffleInPlace(values: Int32Array, random: () => number): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
}
