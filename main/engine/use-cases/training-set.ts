import { splitClassSamples } from '../evaluation/index.js';
import type { SampleRow, SampleSplit } from '../store/samples.js';
import type { Member } from '../store/versions.js';

export interface TrainingSet {
  /** Classes with at least one training sample, sorted. */
  classNames: string[];
  /** Class folders that exist but hold no usable image yet. */
  emptyClasses: string[];
  train: Member[];
  heldOut: Member[];
  /** The split of every ready sample, to show per file. */
  splits: Array<{ relPath: string; split: SampleSplit }>;
}

export function memberKey(member: Member): string {
  return `${member.className}\u0000${member.contentHash}`;
}

/**
 * Splits each class's distinct contents into train and held-out by content hash, so the
 * split is stable across runs and machines and a duplicate file never sits on both sides.
 */
export function buildTrainingSet(classFolders: readonly string[], samples: readonly SampleRow[], heldOutFraction: number): TrainingSet {
  const hashesByClass = new Map<string, Set<string>>(classFolders.map((name) => [name, new Set<string>()]));
  for (const sample of samples) {
    if (sample.status === 'ready' && sample.contentHash) hashesByClass.get(sample.className)?.add(sample.contentHash);
  }
  const train: Member[] = [];
  const heldOut: Member[] = [];
  const sideOf = new Map<string, SampleSplit>();
  const classNames: string[] = [];
  const emptyClasses: string[] = [];
  for (const [className, hashes] of [...hashesByClass].sort(([a], [b]) => a.localeCompare(b))) {
    if (hashes.size === 0) {
      emptyClasses.push(className);
      continue;
    }
    classNames.push(className);
    const split = splitClassSamples([...hashes], heldOutFraction);
    for (const contentHash of split.train) {
      train.push({ contentHash, className });
      sideOf.set(memberKey({ contentHash, className }), 'train');
    }
    for (const contentHash of split.heldOut) {
      heldOut.push({ contentHash, className });
      sideOf.set(memberKey({ contentHash, className }), 'heldout');
    }
  }
  const splits = samples.flatMap((sample) => {
    const side = sample.contentHash ? sideOf.get(memberKey({ contentHash: sample.contentHash, className: sample.className })) : undefined;
    return side ? [{ relPath: sample.relPath, split: side }] : [];
  });
  return { classNames, emptyClasses, train, heldOut, splits };
}

/** Members of `next` not in `previous`, and of `previous` not in `next`. */
export function diffMembers(previous: readonly Member[], next: readonly Member[]): { added: Member[]; removed: Member[] } {
  const before = new Set(previous.map(memberKey));
  const after = new Set(next.map(memberKey));
  return {
    added: next.filter((member) => !before.has(memberKey(member))),
    removed: previous.filter((member) => !after.has(memberKey(member))),
  };
}

/** A stable, uniform per-class sample of at most `perClass` members (the smallest hashes: a bottom-k sketch). */
export function selectReplayBuffer(train: readonly Member[], perClass: number): Member[] {
  const byClass = new Map<string, Member[]>();
  for (const member of train) {
    const list = byClass.get(member.className) ?? [];
    list.push(member);
    byClass.set(member.className, list);
  }
  return [...byClass.values()].flatMap((members) =>
    members.sort((a, b) => (a.contentHash < b.contentHash ? -1 : a.contentHash > b.contentHash ? 1 : 0)).slice(0, perClass),
  );
}
