// Sub-groups: folders below a class folder (`cat/sketches/x.jpg` is class `cat`, sub-group
// `sketches`), so a new look of a class (a new domain) can be measured on its own.
import type { GroupAccuracy } from '../api/contract.js';
import { compareCodeUnits } from '../dataset/scan.js';

/** The first folder below the class folder of a project-relative path ('/'-separated), or null
 * for a file directly in its class folder. */
export function subGroupOf(relPath: string): string | null {
  const parts = relPath.split('/');
  return parts.length > 2 ? parts[1]! : null;
}

/**
 * The sub-group of each content hash of a class, and the sub-groups each class has. A content
 * hash stands for every copy of the file in its class, and the split counts it once
 * (training-set.ts); so does this: a hash with copies in several places counts in one
 * sub-group only — its first named sub-group in code-unit order, or the class's top level
 * when every copy lies there. A copy placed in a sub-folder says more about what the image is
 * than one left at the top, and the rows of a class still add up to its held-out count.
 */
export function subGroupsByMember(samples: readonly { relPath: string; className: string; contentHash: string | null }[]): {
  groupOf: (member: { className: string; contentHash: string }) => string | null;
  known: Map<string, Set<string | null>>;
} {
  const groups = new Map<string, { className: string; group: string | null }>();
  const keyOf = (className: string, contentHash: string) => `${className}\u0000${contentHash}`;
  for (const sample of samples) {
    if (!sample.contentHash) continue;
    const key = keyOf(sample.className, sample.contentHash);
    const group = subGroupOf(sample.relPath);
    const seen = groups.get(key);
    if (seen === undefined || preferred(group, seen.group)) groups.set(key, { className: sample.className, group });
  }
  const known = new Map<string, Set<string | null>>();
  for (const { className, group } of groups.values()) {
    const set = known.get(className) ?? new Set<string | null>();
    set.add(group);
    known.set(className, set);
  }
  return { groupOf: (member) => groups.get(keyOf(member.className, member.contentHash))?.group ?? null, known };
}

function preferred(candidate: string | null, current: string | null): boolean {
  if (candidate === null) return false;
  return current === null || compareCodeUnits(candidate, current) < 0;
}

/**
 * Accuracy per (class, sub-group) for every class with at least one sub-group among
 * `knownGroups` (class → sub-groups it has, held out or not: a sub-group with no held-out
 * sample shows with count 0 and accuracy null). Its top-level files form the row with
 * group null. Undefined when no class has a sub-group, so reports of flat projects stay as
 * they were.
 */
export function accuracyBySubGroup(input: {
  truth: readonly string[];
  predicted: readonly string[];
  groups: readonly (string | null)[];
  knownGroups: ReadonlyMap<string, ReadonlySet<string | null>>;
  classOrder: readonly string[];
}): GroupAccuracy[] | undefined {
  const tally = new Map<string, { correct: number; count: number }>();
  const rowKey = (className: string, group: string | null) => `${className}\u0000${group ?? ''}`;
  const withGroups = new Map<string, Set<string | null>>();
  for (const [className, groups] of input.knownGroups) {
    if ([...groups].some((group) => group !== null)) withGroups.set(className, new Set(groups));
  }
  if (withGroups.size === 0) return undefined;
  input.truth.forEach((className, i) => {
    const groups = withGroups.get(className);
    if (!groups) return;
    const group = input.groups[i] ?? null;
    groups.add(group);
    const entry = tally.get(rowKey(className, group)) ?? { correct: 0, count: 0 };
    entry.count++;
    if (input.predicted[i] === className) entry.correct++;
    tally.set(rowKey(className, group), entry);
  });
  const order = [...input.classOrder, ...[...withGroups.keys()].filter((name) => !input.classOrder.includes(name)).sort(compareCodeUnits)];
  return order.flatMap((className) => {
    const groups = withGroups.get(className);
    if (!groups) return [];
    // The top level first, then sub-groups by name.
    return [...groups]
      .sort((a, b) => (a === null ? -1 : b === null ? 1 : compareCodeUnits(a, b)))
      .map((group) => {
        const { correct, count } = tally.get(rowKey(className, group)) ?? { correct: 0, count: 0 };
        return { className, group, accuracy: count === 0 ? null : correct / count, correct, count };
      });
  });
}

/** Class → the sub-groups (null: top level) its files lie in. */
export function knownSubGroups(files: readonly { relPath: string; className: string }[]): Map<string, Set<string | null>> {
  const known = new Map<string, Set<string | null>>();
  for (const file of files) {
    const groups = known.get(file.className) ?? new Set<string | null>();
    groups.add(subGroupOf(file.relPath));
    known.set(file.className, groups);
  }
  return known;
}
