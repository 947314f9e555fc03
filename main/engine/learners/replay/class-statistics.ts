// Per-class feature sums and counts of every training sample a version has seen: exact to add
// and subtract, and all that imprinting, herding targets and translated pseudo-features need.
// D float64 + one count per class (10 KB per class at D = 1280), counted in the buffer budget.
import { LearnerInputError, type LabeledFeatures } from '../learner.js';

export interface ClassStatistics {
  readonly classNames: readonly string[];
  readonly dim: number;
  readonly counts: readonly number[];
  /** C×D row-major: row c is the sum of class c's features. */
  readonly sums: Float64Array;
}

export function emptyStatistics(classNames: readonly string[], dim: number): ClassStatistics {
  return { classNames, dim, counts: classNames.map(() => 0), sums: new Float64Array(classNames.length * dim) };
}

/** The statistics in `classNames` order (new classes start empty, absent ones are dropped),
 * with `added` counted in and `removed` counted out. */
export function updateStatistics(previous: ClassStatistics | null, classNames: readonly string[], dim: number, added: LabeledFeatures, removed: LabeledFeatures, dropped: ReadonlySet<string>): ClassStatistics {
  const index = new Map(classNames.map((name, c) => [name, c]));
  const sums = new Float64Array(classNames.length * dim);
  const counts = classNames.map(() => 0);
  if (previous) {
    previous.classNames.forEach((name, p) => {
      const c = index.get(name);
      if (c === undefined) return;
      sums.set(previous.sums.subarray(p * dim, (p + 1) * dim), c * dim);
      counts[c] = previous.counts[p]!;
    });
  }
  for (const [part, sign] of [[added, 1], [removed, -1]] as const) {
    part.labels.forEach((label, s) => {
      const c = index.get(label);
      if (c === undefined) {
        if (sign < 0 && dropped.has(label)) return; // its whole class goes anyway
        throw new LearnerInputError(`${sign > 0 ? 'added' : 'removed'} sample labeled "${label}", a class this model does not have`);
      }
      for (let j = 0; j < dim; j++) sums[c * dim + j]! += sign * part.features[s * dim + j]!;
      counts[c]! += sign;
    });
  }
  counts.forEach((n, c) => {
    if (n < 0) throw new LearnerInputError(`more samples of "${classNames[c]}" removed than were ever added`);
    if (n === 0) sums.fill(0, c * dim, (c + 1) * dim); // exact zeros, not subtraction rounding
  });
  return { classNames, dim, counts, sums };
}

export function classMean(statistics: ClassStatistics, c: number): Float64Array {
  const { dim } = statistics;
  const n = statistics.counts[c]!;
  const mean = new Float64Array(dim);
  if (n === 0) return mean;
  for (let j = 0; j < dim; j++) mean[j] = statistics.sums[c * dim + j]! / n;
  return mean;
}

export function statisticsBytesPerClass(dim: number): number {
  return dim * 8 + 8;
}
