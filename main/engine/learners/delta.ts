// Checks a TrainingDelta against the contract before any statistics are touched, and maps class
// columns between versions.

import { LearnerInputError, type LabeledFeatures, type TrainingDelta } from './learner.js';

/** Throws LearnerInputError unless the delta is well formed; returns the feature width (or
 * `expectedDim` when the delta carries no samples). */
export function validateDelta(delta: TrainingDelta, expectedDim: number | null): number {
  const seen = new Set<string>();
  for (const name of delta.classNames) {
    if (typeof name !== 'string' || name.length === 0) throw new LearnerInputError('class names must be non-empty strings');
    if (seen.has(name)) throw new LearnerInputError(`class "${name}" is listed twice`);
    seen.add(name);
  }
  let dim = expectedDim;
  for (const [which, part] of [['added', delta.added], ['removed', delta.removed]] as const) {
    checkShape(which, part);
    if (part.count === 0) continue;
    if (dim !== null && part.dim !== dim) {
      throw new LearnerInputError(`${which} features have ${part.dim} dimensions, expected ${dim}`);
    }
    dim = part.dim;
  }
  for (const label of delta.added.labels) {
    if (!seen.has(label)) throw new LearnerInputError(`added sample labeled "${label}", which is not in classNames`);
  }
  return dim ?? delta.added.dim;
}

function checkShape(which: string, part: LabeledFeatures): void {
  if (!Number.isInteger(part.count) || part.count < 0) throw new LearnerInputError(`${which}.count must be a non-negative integer`);
  if (!Number.isInteger(part.dim) || part.dim <= 0) throw new LearnerInputError(`${which}.dim must be a positive integer`);
  if (part.labels.length !== part.count) throw new LearnerInputError(`${which} has ${part.labels.length} labels for ${part.count} samples`);
  if (part.features.length !== part.count * part.dim) {
    throw new LearnerInputError(`${which} has ${part.features.length} floats, expected ${part.count}×${part.dim}`);
  }
}

/**
 * Column layout while applying a delta: the new version's classes first (in their order), then
 * previous classes that are being dropped, so that their removed samples still have a column to
 * be subtracted from. Dropped columns are cut off once the delta is applied.
 */
export interface ColumnPlan {
  readonly working: readonly string[];
  readonly keep: number;
  readonly index: ReadonlyMap<string, number>;
}

export function planColumns(previous: readonly string[], next: readonly string[]): ColumnPlan {
  const nextSet = new Set(next);
  const working = [...next, ...previous.filter((name) => !nextSet.has(name))];
  return { working, keep: next.length, index: new Map(working.map((name, i) => [name, i])) };
}

/**
 * Copies a matrix with one column per class (rows×from.length, row-major) into the layout of
 * `to`; classes absent from `from` get zero columns. Classes of `from` absent from `to` are dropped.
 */
export function remapColumns(matrix: Float64Array, rows: number, from: readonly string[], to: readonly string[]): Float64Array {
  const out = new Float64Array(rows * to.length);
  const source = new Map(from.map((name, i) => [name, i]));
  const pairs: Array<[number, number]> = [];
  to.forEach((name, j) => {
    const i = source.get(name);
    if (i !== undefined) pairs.push([i, j]);
  });
  for (let r = 0; r < rows; r++) {
    for (const [i, j] of pairs) out[r * to.length + j] = matrix[r * from.length + i]!;
  }
  return out;
}

/** Indices of `labels` in the plan's working columns; a label with no column is a caller error. */
export function labelColumns(labels: readonly string[], plan: ColumnPlan, which: string): Int32Array {
  const out = new Int32Array(labels.length);
  labels.forEach((label, i) => {
    const column = plan.index.get(label);
    if (column === undefined) throw new LearnerInputError(`${which} sample labeled "${label}", a class this model never had`);
    out[i] = column;
  });
  return out;
}

/** Counts can't go negative, and a dropped class must have had all its samples removed. */
export function checkCounts(working: readonly string[], counts: readonly number[], keep: number): void {
  working.forEach((name, i) => {
    const n = counts[i]!;
    if (n < 0) throw new LearnerInputError(`more samples of "${name}" removed than were ever added`);
    if (i >= keep && n !== 0) {
      throw new LearnerInputError(`class "${name}" is gone from classNames but ${n} of its samples were not in removed`);
    }
  });
}
