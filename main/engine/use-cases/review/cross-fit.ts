// Out-of-sample scores for training samples, so a model never vouches for a label it was fitted
// to. K-fold cross-fitting: the training members are split into K folds by content hash (stable
// across runs, a duplicate never on both sides), and fold k is scored by a model trained on every
// other member.
//
// - analytic and ncm learn from sufficient statistics that subtract exactly, so the model without
//   fold k is the learner's own `update(head, removed: fold k)`: exactly the head version retrained
//   without those samples (same λ, same plugins), at the cost of one statistics pass over the fold
//   and one solve. K = 5 costs 5 ridge solves for the analytic learner, whatever the sample count.
// - replay and finetune train by gradient steps: retraining them K times would take minutes. They
//   are judged by a stand-in, the analytic learner fitted on the same cached rows (cross-fitted the
//   same way): an approximation of what they would say, from the same backbone features. The
//   finetune learner caches cut activations (C×H×W); the stand-in sees them average-pooled per
//   channel, the usual global pooling, as a C-wide feature.
import { getLearner, noFeatures, type LabeledFeatures, type Learner } from '../../learners/index.js';

export const FOLDS = 5;

export type CrossFitMethod = 'exact' | 'analytic-stand-in';

export interface CrossFitResult {
  /** count × classNames.length, row order of the input */
  scores: Float32Array;
  classNames: readonly string[];
  /** 0 for rows that could not be judged: the only training sample of their class in the model */
  judged: Uint8Array;
  method: CrossFitMethod;
  folds: number;
}

/** Learners whose states subtract samples exactly (their update with `removed` is exact). */
const EXACT_REMOVAL: ReadonlySet<string> = new Set(['analytic', 'ncm']);

/**
 * `rows` must be members of the head's training set (each content hash + class once) for the
 * exact method; `cutShape` is given when rows are cut activations.
 */
export async function crossFittedScores(
  learnerId: string,
  learner: Learner<unknown>,
  headState: unknown,
  rows: LabeledFeatures & { keys: readonly string[] },
  cutShape?: readonly [number, number, number],
): Promise<CrossFitResult> {
  const classNames = learner.classNames(headState);
  const exact = EXACT_REMOVAL.has(learnerId);
  let model: Learner<unknown>;
  let base: unknown;
  let input = rows;
  if (exact) {
    model = learner;
    base = headState;
  } else {
    model = getLearner('analytic');
    if (cutShape) input = { ...rows, ...poolActivations(rows.features, rows.count, cutShape) };
    base = await model.update(null, { classNames, added: input, removed: noFeatures(input.dim) });
  }
  const column = new Map(classNames.map((name, index) => [name, index]));
  const classTotals = new Int32Array(classNames.length);
  for (const label of input.labels) classTotals[column.get(label)!]!++;

  const fold = Int32Array.from(input.keys, foldOf);
  const scores = new Float32Array(input.count * classNames.length);
  const judged = new Uint8Array(input.count);
  for (let k = 0; k < FOLDS; k++) {
    const members: number[] = [];
    for (let row = 0; row < input.count; row++) if (fold[row] === k) members.push(row);
    if (members.length === 0) continue;
    const part = pick(input, members);
    const inFold = new Int32Array(classNames.length);
    for (const label of part.labels) inFold[column.get(label)!]!++;
    const without = await model.update(base, { classNames, added: noFeatures(input.dim), removed: part }, exact && learnerId === 'analytic' ? { hyperParameters: { lambdaSelection: 'fixed' } } : {});
    const foldScores = await model.predict(without, part.features, part.count);
    members.forEach((row, i) => {
      scores.set(foldScores.subarray(i * classNames.length, (i + 1) * classNames.length), row * classNames.length);
      const own = column.get(input.labels[row]!)!;
      judged[row] = classTotals[own]! - inFold[own]! > 0 ? 1 : 0;
    });
  }
  return { scores, classNames, judged, method: exact ? 'exact' : 'analytic-stand-in', folds: FOLDS };
}

/** The fold of a member, from hash digits the held-out split does not use (it reads the first 13). */
function foldOf(contentHash: string): number {
  return Number.parseInt(contentHash.slice(13, 21), 16) % FOLDS;
}

function pick(rows: LabeledFeatures, members: readonly number[]): LabeledFeatures {
  const features = new Float32Array(members.length * rows.dim);
  members.forEach((row, i) => features.set(rows.features.subarray(row * rows.dim, (row + 1) * rows.dim), i * rows.dim));
  return { features, labels: members.map((row) => rows.labels[row]!), count: members.length, dim: rows.dim };
}

/** Row-major [C, H, W] activations → the mean of each channel. */
function poolActivations(features: Float32Array, count: number, [channels, height, width]: readonly [number, number, number]): { features: Float32Array; dim: number } {
  const plane = height * width;
  const pooled = new Float32Array(count * channels);
  for (let row = 0; row < count; row++) {
    const offset = row * channels * plane;
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let i = offset + c * plane, end = i + plane; i < end; i++) sum += features[i]!;
      pooled[row * channels + c] = sum / plane;
    }
  }
  return { features: pooled, dim: channels };
}
