import type { AccuracyReport, DeviceReportOut, VersionSummary } from '../api/contract.js';
import type { StoredCalibration } from '../evaluation/confidence.js';
import type { ProjectStore } from '../store/index.js';
import type { VersionRecord } from '../store/versions.js';

/** What a version's stored metrics blob holds (written by update.ts). */
export interface StoredVersionMetrics {
  report: AccuracyReport;
  trainSamples: number;
  heldOutSamples: number;
  /** where the backbone ran (null: all from the cache) */
  device?: DeviceReportOut | null;
  /** where gradient training ran (null: the learner trained none); absent before it was recorded */
  trainingDevice?: DeviceReportOut | null;
  /** absent in versions made before calibration existed */
  calibration?: StoredCalibration;
}

export function summarizeVersion(version: VersionRecord, store: ProjectStore): VersionSummary {
  const metrics = version.metrics as StoredVersionMetrics;
  return {
    id: version.id,
    parentId: version.parentId,
    createdAt: version.createdAt,
    learner: version.learner,
    backbone: version.backbone,
    classNames: version.classes.map((entry) => entry.name),
    trainSamples: metrics.trainSamples,
    heldOutSamples: metrics.heldOutSamples,
    retained: metrics.report.retained,
    new: metrics.report.new,
    overall: metrics.report.overall,
    isHead: store.versions.headId() === version.id,
  };
}
