// The fleet model: solve(local statistics + Σ remote statistics − duplicates), with the same
// learner code a local update uses. The summed statistics become a "previous" state and the
// duplicates (samples this device holds that other devices also counted) its removed samples,
// so learner.update subtracts them and solves exactly as for any local update.

import type { ComposedState } from '../learners/compose.js';
import { noFeatures, type LabeledFeatures, type Learner, type LearnerState } from '../learners/learner.js';
import type { AnalyticState } from '../learners/analytic.js';
import type { NcmState } from '../learners/ncm.js';
import type { Member } from '../store/versions.js';
import { crossRows, FEATURE_LAYOUT, sketchEntry, sketchOf, type FleetLearnerId, type FleetStatistics } from './statistics.js';

export interface BackboneIdentity {
  readonly key: string;
  readonly precision: string;
  readonly featureDim: number;
}

/** This device's statistics, read from its local-only learner state. */
export function statisticsOfState(learnerId: FleetLearnerId, state: LearnerState, backbone: BackboneIdentity, train: readonly Member[]): FleetStatistics {
  const core = (state as ComposedState).core;
  const common = { learner: learnerId, backbone: backbone.key, precision: backbone.precision, featureLayout: FEATURE_LAYOUT, classNames: [...state.classNames] };
  if (learnerId === 'analytic') {
    const analytic = core as AnalyticState;
    return { ...common, dim: analytic.dim, counts: [...analytic.counts], gram: analytic.gram, cross: analytic.cross, sketch: sketchOf(train, state.classNames) };
  }
  const ncm = core as NcmState;
  return { ...common, dim: ncm.dim, counts: [...ncm.counts], gram: null, cross: ncm.sums, sketch: sketchOf(train, state.classNames) };
}

/** Why `remote` cannot be summed with `local`, or null when it can. */
export function incompatibility(local: FleetStatistics, remote: FleetStatistics): string | null {
  if (remote.learner !== local.learner) return `learner "${remote.learner}", this device uses "${local.learner}"`;
  if (remote.backbone !== local.backbone) return `backbone "${remote.backbone}", this device uses "${local.backbone}"`;
  if (remote.precision !== local.precision) return `backbone precision ${remote.precision}, this device uses ${local.precision}`;
  if (remote.featureLayout !== local.featureLayout) return `feature layout "${remote.featureLayout}", this device uses "${local.featureLayout}"`;
  if (remote.dim !== local.dim) return `${remote.dim}-wide features, this device's are ${local.dim}-wide`;
  return null;
}

export interface OverlapReport {
  /** Distinct samples (same class, same content) held by two or more devices. */
  samples: number;
  /** Extra copies subtracted exactly (this device holds the image, so it has its features). */
  corrected: number;
  /** Extra copies between other devices that this device cannot subtract (it lacks the image): still counted more than once. */
  uncorrected: number;
}

export interface FleetSolveInput {
  learner: Learner;
  learnerId: FleetLearnerId;
  /** This device's local-only state and statistics (from statisticsOfState). */
  localState: LearnerState;
  local: FleetStatistics;
  localTrain: readonly Member[];
  remotes: readonly FleetStatistics[];
  /** Output class order: the caller's (head classes first); must hold every class of every part. */
  classOrder: (union: readonly string[]) => string[];
  /** Backbone features of local members, as the update reads them. */
  features: (members: readonly Member[]) => LabeledFeatures;
  featureDim: number;
  signal?: AbortSignal | undefined;
}

export async function solveFleet(input: FleetSolveInput): Promise<{ state: LearnerState; overlap: OverlapReport }> {
  const { local, remotes } = input;
  const union = [...new Set([...local.classNames, ...remotes.flatMap((r) => r.classNames)])].sort();
  const classNames = input.classOrder(union);
  const summed = sumStatistics(local.learner, local.dim, [local, ...remotes], classNames);
  const { duplicates, overlap } = findOverlap(input.localTrain, local, remotes);
  if (summed.gram) shiftDiagonal(summed.gram, local.dim + 1, noiseRidgeShift(remotes, local.dim));
  const previous = composedState(input.learnerId, input.localState as ComposedState, summed, classNames);
  const removed = duplicates.length > 0 ? input.features(duplicates) : noFeatures(input.featureDim);
  const state = await input.learner.update(previous, { classNames, added: noFeatures(removed.dim), removed }, { signal: input.signal });
  return { state, overlap };
}

/**
 * Diagonal shift that keeps the system positive definite when noisy messages are summed: their
 * Gram noise is a symmetric Gaussian matrix with spectral norm about 2σ√(D+1) (σ² summed over the
 * noisy messages), far above the default λ = 0.5 at any useful privacy level ("Analyze Gauss",
 * Dwork et al. 2014, shifts the same way). It goes on every diagonal entry, the bias's too (which
 * λ leaves alone). Zero without noise, so exact fleets stay exact.
 */
export function noiseRidgeShift(remotes: readonly FleetStatistics[], dim: number): number {
  const variance = remotes.reduce((sum, remote) => sum + (remote.noiseSigma ?? 0) ** 2, 0);
  return variance > 0 ? 2 * Math.sqrt(variance) * Math.sqrt(dim + 1) : 0;
}

/** Adds `shift` to the diagonal of the n×n matrix `m` (in place). */
export function shiftDiagonal(m: Float64Array, n: number, shift: number): void {
  if (shift !== 0) for (let i = 0; i < n; i++) m[i * n + i]! += shift;
}

interface Summed {
  gram: Float64Array | null;
  cross: Float64Array;
  counts: number[];
}

/** Σ of the parts' statistics, columns aligned by class name into `classNames`. */
export function sumStatistics(learner: FleetLearnerId, dim: number, parts: readonly FleetStatistics[], classNames: readonly string[]): Summed {
  const rows = crossRows(learner, dim);
  const C = classNames.length;
  const column = new Map(classNames.map((name, i) => [name, i]));
  const gram = learner === 'analytic' ? new Float64Array((dim + 1) * (dim + 1)) : null;
  const cross = new Float64Array(rows * C);
  const counts = new Array<number>(C).fill(0);
  for (const part of parts) {
    if (gram && part.gram) for (let i = 0; i < gram.length; i++) gram[i]! += part.gram[i]!;
    const from = part.classNames.length;
    part.classNames.forEach((name, c) => {
      const to = column.get(name)!;
      counts[to]! += part.counts[c]!;
      for (let r = 0; r < rows; r++) cross[r * C + to]! += part.cross[r * from + c]!;
    });
  }
  return { gram, cross, counts };
}

/**
 * Overlap by the exact sketches: each (class, sample) listed by more than one device. Copies of
 * samples this device holds come back as members to subtract (once per extra copy).
 */
export function findOverlap(localTrain: readonly Member[], local: FleetStatistics, remotes: readonly FleetStatistics[]): { duplicates: Member[]; overlap: OverlapReport } {
  const holders = new Map<string, number>();
  const add = (stats: FleetStatistics) =>
    stats.classNames.forEach((name, c) => {
      for (const entry of stats.sketch[c] ?? []) {
        const key = `${name}\u0000${entry}`;
        holders.set(key, (holders.get(key) ?? 0) + 1);
      }
    });
  add(local);
  for (const remote of remotes) add(remote);
  // Sketch keys back to the local members they came from (their features are here).
  const localClasses = new Set(local.classNames);
  const memberByKey = new Map<string, Member>();
  for (const member of localTrain) {
    if (localClasses.has(member.className)) memberByKey.set(`${member.className}\u0000${sketchEntry(member.contentHash)}`, member);
  }
  const duplicates: Member[] = [];
  const overlap: OverlapReport = { samples: 0, corrected: 0, uncorrected: 0 };
  for (const [key, count] of holders) {
    if (count < 2) continue;
    overlap.samples++;
    const member = memberByKey.get(key);
    if (member) {
      for (let i = 1; i < count; i++) duplicates.push(member);
      overlap.corrected += count - 1;
    } else {
      overlap.uncorrected += count - 1;
    }
  }
  return { duplicates, overlap };
}

/** A composed state of `learnerId` holding the summed statistics (weights are solved by the update that follows). */
function composedState(learnerId: FleetLearnerId, template: ComposedState, summed: Summed, classNames: readonly string[]): ComposedState {
  const core = template.core;
  const coreState =
    learnerId === 'analytic'
      ? ({ ...(core as AnalyticState), classNames, counts: summed.counts, gram: summed.gram!, cross: summed.cross, weights: new Float64Array(summed.cross.length) } satisfies AnalyticState)
      : ({ ...(core as NcmState), classNames, counts: summed.counts, sums: summed.cross } satisfies NcmState);
  return { learnerId: template.learnerId, classNames, core: coreState, pluginStates: template.pluginStates };
}
