// A device's learning statistics: what the exact learners (analytic, ncm) keep, in a form that
// adds. Σ over devices of these is exactly the statistics of the union of their training samples.
//
//   analytic: gram = Σ x̃x̃ᵀ ((D+1)², upper triangle meaningful), cross = Σ x̃yᵀ ((D+1)×C)
//   ncm:      cross = per-class sums of features (D×C), no gram
//
// x is the L2-normalized backbone feature (the learners' l2-normalize plugin), x̃ = [x, 1].

import { createHash } from 'node:crypto';
import type { Member } from '../store/versions.js';

/** Learners whose state is additive statistics: the only ones a fleet can merge exactly. */
export const FLEET_LEARNERS = ['analytic', 'ncm'] as const;
export type FleetLearnerId = (typeof FLEET_LEARNERS)[number];

export function isFleetLearner(id: string): id is FleetLearnerId {
  return (FLEET_LEARNERS as readonly string[]).includes(id);
}

/** What features the statistics are of; devices must agree on it to be summed. */
export const FEATURE_LAYOUT = 'l2-normalized+bias';

export interface FleetStatistics {
  readonly learner: FleetLearnerId;
  /** Backbone key (catalog id or onnx-<sha>) and its precision: features of different ones never add. */
  readonly backbone: string;
  readonly precision: string;
  readonly featureLayout: string;
  /** Feature width D (without the bias input). */
  readonly dim: number;
  readonly classNames: readonly string[];
  readonly counts: readonly number[];
  /** analytic only: (D+1)² row-major, upper triangle meaningful. */
  readonly gram: Float64Array | null;
  /** analytic: (D+1)×C; ncm: D×C (row-major, columns in classNames order). */
  readonly cross: Float64Array;
  /** Per class (classNames order): sorted sketch entries of its training samples (see sketchEntry). */
  readonly sketch: readonly (readonly string[])[];
  /** σ of the Gaussian noise the sender added (privacy.ts); absent: exact statistics. */
  readonly noiseSigma?: number;
}

/** Rows of `cross` for a learner at feature width `dim`. */
export function crossRows(learner: FleetLearnerId, dim: number): number {
  return learner === 'analytic' ? dim + 1 : dim;
}

/**
 * Exact content sketch entry of one training sample: the first 64 bits (16 hex digits) of
 * sha256(content hash). Every sample is listed (not a MinHash estimate), so overlaps are
 * counted exactly; 64 bits make a false match between 10⁶ samples about 1 in 3·10⁷.
 */
export function sketchEntry(contentHash: string): string {
  return createHash('sha256').update(contentHash).digest('hex').slice(0, 16);
}

/** The sketch of `members` grouped by class, in `classNames` order. */
export function sketchOf(members: readonly Member[], classNames: readonly string[]): string[][] {
  const byClass = new Map<string, string[]>(classNames.map((name) => [name, []]));
  for (const member of members) byClass.get(member.className)?.push(sketchEntry(member.contentHash));
  return classNames.map((name) => byClass.get(name)!.sort());
}

/** Identifies the statistics themselves (not when they were sent), to keep the version when nothing changed. */
export function statisticsDigest(stats: FleetStatistics): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([stats.learner, stats.backbone, stats.precision, stats.featureLayout, stats.dim, stats.classNames, stats.counts]));
  if (stats.gram) hash.update(new Uint8Array(stats.gram.buffer, stats.gram.byteOffset, stats.gram.byteLength));
  hash.update(new Uint8Array(stats.cross.buffer, stats.cross.byteOffset, stats.cross.byteLength));
  hash.update(stats.sketch.flat().join(''));
  return hash.digest('hex');
}
