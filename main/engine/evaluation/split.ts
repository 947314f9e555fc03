// Deterministic train / held-out split of one class's samples, decided by content hash so it is
// the same on every run and machine, and identical files always land on the same side.
//
// Rule: a sample is held out when its hash's position in [0, 1) (first 52 bits) is below
// `fraction`; that decision depends on nothing but the sample itself, so adding or removing
// other samples never moves it. Two fallbacks keep every class usable:
//   - a class with one distinct sample keeps it for training (never hold out the only one);
//   - a class with two or more holds out at least one (the lowest position) and trains on at
//     least one (the highest position stays in train if every position fell below `fraction`).
// Only the fallbacks can move a sample when others arrive: e.g. a class's first "naturally"
// held-out sample sends the fallback one back to train. So an addition switches at most one
// existing sample, and only while the class is small enough for a fallback to be in force.
// fraction = 0 disables held-out evaluation (everything trains).

export const DEFAULT_HELD_OUT_FRACTION = 0.2;

export interface ClassSplit {
  readonly train: string[];
  readonly heldOut: string[];
}

/** Where a hex content hash falls in [0, 1), from its first 13 hex digits (52 bits, exact in a double). */
export function hashPosition(hash: string): number {
  if (!/^[0-9a-fA-F]{13,}$/.test(hash)) throw new Error(`not a hex content hash: "${hash}"`);
  return Number.parseInt(hash.slice(0, 13), 16) / 2 ** 52;
}

/**
 * Splits one class's samples (their content hashes, duplicates allowed) into train and held-out.
 * Both lists keep the input order; duplicates of a hash follow it to the same side.
 */
export function splitClassSamples(hashes: readonly string[], fraction: number = DEFAULT_HELD_OUT_FRACTION): ClassSplit {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`held-out fraction must be in [0, 1), got ${fraction}`);
  const distinct = [...new Set(hashes.map((h) => h.toLowerCase()))];
  const position = new Map(distinct.map((h) => [h, hashPosition(h)]));
  const heldOut = new Set(fraction > 0 ? distinct.filter((h) => position.get(h)! < fraction) : []);
  if (fraction > 0 && distinct.length > 0) {
    const byPosition = [...distinct].sort((a, b) => position.get(a)! - position.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
    if (heldOut.size === 0 && distinct.length >= 2) heldOut.add(byPosition[0]!);
    if (heldOut.size === distinct.length) heldOut.delete(byPosition[byPosition.length - 1]!);
  }
  const train: string[] = [];
  const held: string[] = [];
  for (const hash of hashes) (heldOut.has(hash.toLowerCase()) ? held : train).push(hash);
  return { train, heldOut: held };
}
