// Latent replay for fine-tuning: cached cut activations (uint8, per-channel scale) of the samples
// learned so far, within a byte budget, stored in the learner state so a version rolls back with
// its buffer. Old classes and old looks (domains) stay learnable because every update trains on the
// new samples mixed with buffered old ones, and the head is refit on all of the buffer.
import { createHash } from 'node:crypto';
import { decodeActivation, encodeActivation } from '../../finetune/activation-codec.js';
import type { LabeledFeatures } from '../learner.js';
import { seededRandom, shuffleInPlace } from '../seeded-random.js';

export interface LatentEntry {
  /** The caller's key (content hash), or a fingerprint of the activation when it gave none. */
  readonly key: string;
  readonly className: string;
  /** encodeActivation's bytes */
  readonly activation: Uint8Array;
}

export type LatentBuffer = readonly LatentEntry[];

/** Encodes delta rows (flattened cut activations) as buffer entries. */
export function toEntries(rows: LabeledFeatures, cutShape: readonly [number, number, number]): LatentEntry[] {
  const [channels, height, width] = cutShape;
  return rows.labels.map((className, r) => {
    const activation = encodeActivation(rows.features.subarray(r * rows.dim, (r + 1) * rows.dim), channels, height, width);
    return { key: rows.keys?.[r] ?? fingerprint(activation), className, activation };
  });
}

/** Keys for removal rows, matched the way toEntries keyed them. */
export function removalKeys(rows: LabeledFeatures, cutShape: readonly [number, number, number]): Set<string> {
  if (rows.keys) return new Set(rows.labels.map((className, r) => entryId(rows.keys![r]!, className)));
  return new Set(toEntries(rows, cutShape).map((entry) => entryId(entry.key, entry.className)));
}

export function entryId(key: string, className: string): string {
  return `${className}\u0000${key}`;
}

/**
 * The next buffer: previous entries of classes still present and not removed, plus the new ones,
 * cut to `budgetBytes` by giving every class an equal share (unused shares pass to the others) and
 * keeping, within a class, the entries with the smallest keys: a stable uniform sample, so a
 * class's old and new looks keep their proportions.
 */
export function nextBuffer(previous: LatentBuffer, removed: ReadonlySet<string>, added: readonly LatentEntry[], classNames: readonly string[], budgetBytes: number): LatentEntry[] {
  const present = new Set(classNames);
  const byClass = new Map<string, LatentEntry[]>();
  const seen = new Set<string>();
  for (const entry of [...previous, ...added]) {
    const id = entryId(entry.key, entry.className);
    if (!present.has(entry.className) || removed.has(id) || seen.has(id)) continue;
    seen.add(id);
    const list = byClass.get(entry.className) ?? [];
    list.push(entry);
    byClass.set(entry.className, list);
  }
  const lists = [...byClass.values()].map((list) => list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
  const total = lists.reduce((sum, list) => sum + list.reduce((s, e) => s + e.activation.byteLength, 0), 0);
  if (total <= budgetBytes || lists.length === 0) return lists.flat();
  const entryBytes = lists[0]![0]!.activation.byteLength;
  let slots = Math.floor(budgetBytes / entryBytes);
  // Water-filling: small classes keep everything, the rest share what is left equally.
  const quota = new Map<LatentEntry[], number>();
  const bySize = [...lists].sort((a, b) => a.length - b.length);
  bySize.forEach((list, i) => {
    const share = Math.floor(slots / (bySize.length - i));
    const take = Math.min(list.length, share);
    quota.set(list, take);
    slots -= take;
  });
  return lists.flatMap((list) => list.slice(0, quota.get(list) ?? 0));
}

/**
 * Old entries to replay beside `newCount` new samples: up to ratio × newCount, drawn round-robin
 * over classes so that every old class is seen, in a seeded order.
 */
export function replaySample(old: readonly LatentEntry[], newCount: number, ratio: number, seed: number): LatentEntry[] {
  const wanted = Math.min(old.length, Math.ceil(newCount * ratio));
  if (wanted === old.length) return [...old];
  const random = seededRandom(seed);
  const byClass = new Map<string, LatentEntry[]>();
  for (const entry of old) {
    const list = byClass.get(entry.className) ?? [];
    list.push(entry);
    byClass.set(entry.className, list);
  }
  const queues = [...byClass.values()].map((list) => {
    const order = Int32Array.from(list, (_, i) => i);
    shuffleInPlace(order, random);
    return Array.from(order, (i) => list[i]!);
  });
  const picked: LatentEntry[] = [];
  for (let round = 0; picked.length < wanted; round++) {
    for (const queue of queues) if (round < queue.length && picked.length < wanted) picked.push(queue[round]!);
  }
  return picked;
}

/** Entries back as a row-major float matrix of flattened activations. */
export function decodeEntries(entries: readonly LatentEntry[], dim: number): Float32Array {
  const out = new Float32Array(entries.length * dim);
  entries.forEach((entry, r) => {
    const { values } = decodeActivation(entry.activation);
    if (values.length !== dim) throw new Error(`a buffered activation has ${values.length} values, expected ${dim}`);
    out.set(values, r * dim);
  });
  return out;
}

function fingerprint(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}
