// The fleet part of an update (see fleet/): where this device's own statistics continue from,
// and the exchange + exact merge after it learned locally.

import type { FleetSource, FleetUpdateReport } from '../api/contract.js';
import { writeFleetConfig, type FleetConfig } from '../fleet/config.js';
import { exchangeStatistics } from '../fleet/exchange.js';
import { solveFleet, statisticsOfState, type OverlapReport } from '../fleet/merge.js';
import { isFleetLearner, type FleetLearnerId } from '../fleet/statistics.js';
import type { ResolvedBackbone } from '../backbones/resolve.js';
import type { LabeledFeatures, Learner, LearnerState } from '../learners/learner.js';
import { UsageError } from '../project/project.js';
import type { ProjectStore } from '../store/index.js';
import type { Member, VersionRecord } from '../store/versions.js';

export function refuseInexactFleetLearner(learnerId: string): asserts learnerId is FleetLearnerId {
  if (!isFleetLearner(learnerId)) {
    throw new UsageError(
      `the ${learnerId} learner cannot join a fleet: its model is trained by gradient steps, not kept as statistics that add up, so devices' models cannot be merged exactly. Use --learner analytic or ncm, or run 'keizoku fleet leave'`,
    );
  }
}

/** What fleet_versions.sources holds for a version (and what fleet status reads back). */
export interface FleetVersionSources {
  fleet: string;
  device: string;
  status: 'merged' | 'skipped';
  reason?: string;
  published: { version: number; bytes: number; sha256: string } | null;
  included: FleetSource[];
  refused: Array<{ device: string; reason: string }>;
  overlap: OverlapReport;
}

export interface FleetLocalStart {
  /** The head's local-only learner state (null: start from scratch). */
  localState: LearnerState | null;
  localClassNames: readonly string[];
  /** The head's model includes other devices' statistics. */
  headIncludesRemote: boolean;
  headSources: readonly FleetSource[];
  /** The head's own model (what it predicts with), read on demand. */
  headModel(): LearnerState | null;
}

export function fleetLocalStart(store: ProjectStore, learner: Learner, head: VersionRecord | undefined, headClassNames: readonly string[]): FleetLocalStart {
  if (!head) return { localState: null, localClassNames: headClassNames, headIncludesRemote: false, headSources: [], headModel: () => null };
  const row = store.fleetVersions.get(head.id);
  if (!row) {
    const state = learner.deserialize(store.versions.learnerState(head.id));
    return { localState: state, localClassNames: learner.classNames(state), headIncludesRemote: false, headSources: [], headModel: () => state };
  }
  const localState = learner.deserialize(row.localState);
  const sources = row.sources as FleetVersionSources;
  let model: LearnerState | undefined;
  return {
    localState,
    localClassNames: learner.classNames(localState),
    headIncludesRemote: sources.included.length > 0,
    headSources: sources.included,
    headModel: () => (model ??= learner.deserialize(store.versions.learnerState(head.id))),
  };
}

/** The same remote statistics (device and statistics hash; a re-send differs only in its time), in any order. */
export function sameSources(a: readonly FleetSource[], b: readonly FleetSource[]): boolean {
  const key = (s: FleetSource) => `${s.device}\u0000${s.statisticsSha256}`;
  const left = new Set(a.map(key));
  return a.length === b.length && b.every((s) => left.has(key(s)));
}

export interface FleetMerge {
  state: LearnerState;
  report: FleetUpdateReport;
  sources: FleetSource[];
  /** Inside the commit transaction: keeps the local-only state and what the version includes, and the published message version. */
  record(store: ProjectStore, versionId: number, localState: Uint8Array): void;
}

export async function mergeWithFleet(input: {
  config: FleetConfig;
  learner: Learner;
  localState: LearnerState;
  localTrain: readonly Member[];
  /** The head's local-only state and training members (what this device published last time). */
  previousLocalState: LearnerState | null;
  previousTrain: readonly Member[];
  backbone: ResolvedBackbone;
  headClassNames: readonly string[];
  features: (members: readonly Member[]) => LabeledFeatures;
  signal?: AbortSignal | undefined;
}): Promise<FleetMerge> {
  const { config, learner, localState } = input;
  refuseInexactFleetLearner(learner.id);
  const learnerId: FleetLearnerId = learner.id;
  const local = statisticsOfState(learnerId, localState, { key: input.backbone.key, precision: input.backbone.precision ?? 'float', featureDim: input.backbone.featureDim }, input.localTrain);
  const localSamples = local.counts.reduce((a, b) => a + b, 0);
  const exchangeStarted = performance.now();
  const identity = { key: input.backbone.key, precision: input.backbone.precision ?? 'float', featureDim: input.backbone.featureDim };
  const previousLocal = input.previousLocalState && config.viaAggregator ? statisticsOfState(learnerId, input.previousLocalState, identity, input.previousTrain) : null;
  const outcome = await exchangeStatistics(config, local, { previousLocal });
  const exchangeMs = performance.now() - exchangeStarted;
  const noOverlap: OverlapReport = { samples: 0, corrected: 0, uncorrected: 0 };

  if (outcome.status === 'skipped') {
    const sources: FleetVersionSources = { fleet: config.fleet, device: config.device, status: 'skipped', reason: outcome.reason, published: null, included: [], refused: [], overlap: noOverlap };
    return {
      state: localState,
      sources: [],
      report: {
        status: 'skipped', fleet: config.fleet, device: config.device, reason: outcome.reason, published: null, devices: [], refused: [],
        overlap: noOverlap, fleetSamples: localSamples, timingsMs: { exchange: exchangeMs, merge: 0 },
      },
      record: (store, versionId, localBytes) => store.fleetVersions.insert(versionId, { localState: localBytes, sources }),
    };
  }

  const mergeStarted = performance.now();
  const headOrder = input.headClassNames;
  const { state, overlap } = await solveFleet({
    learner, learnerId, localState, local, localTrain: input.localTrain,
    remotes: outcome.accepted.map((entry) => entry.statistics),
    classOrder: (union) => [...headOrder.filter((name) => union.includes(name)), ...union.filter((name) => !headOrder.includes(name))],
    features: input.features,
    featureDim: input.backbone.featureDim,
    signal: input.signal,
  });
  const mergeMs = performance.now() - mergeStarted;
  const included = outcome.accepted.map((entry) => entry.source);
  const fleetSamples = localSamples + included.reduce((sum, source) => sum + source.samples, 0) - overlap.corrected;
  const published = { version: outcome.published.version, bytes: outcome.published.bytes, sha256: outcome.published.sha256 };
  const sources: FleetVersionSources = { fleet: config.fleet, device: config.device, status: 'merged', published, included, refused: outcome.refused, overlap };
  return {
    state,
    sources: included,
    report: {
      status: 'merged', fleet: config.fleet, device: config.device, published: { version: published.version, bytes: published.bytes },
      via: outcome.via, ...(outcome.aggregateIncludes ? { aggregateIncludes: outcome.aggregateIncludes } : {}),
      devices: included, refused: outcome.refused, overlap, fleetSamples, timingsMs: { exchange: exchangeMs, merge: mergeMs },
    },
    record: (store, versionId, localBytes) => {
      store.fleetVersions.insert(versionId, { localState: localBytes, sources });
      writeFleetConfig(store.settings, { ...config, published: { version: outcome.published.version, statisticsSha256: outcome.published.statisticsSha256 } });
    },
  };
}
