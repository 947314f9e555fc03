// Calibrated confidence for a model version: the temperature is fitted once, on the held-out
// samples of the update that made the version, and read back by predict and export.
import { fitTemperature, UNCALIBRATED_TEMPERATURE } from './evaluation/calibration.js';
import type { LabeledFeatures, Learner } from './learners/index.js';
import type { VersionRecord } from './store/versions.js';

export interface StoredCalibration {
  temperature: number;
  /** Held-out samples the temperature was fitted on (0: not fitted, temperature 1). */
  samples: number;
}

export function calibrateOnHeldOut<S>(learner: Learner<S>, state: S, heldOut: LabeledFeatures): StoredCalibration {
  const classNames = learner.classNames(state);
  const column = new Map(classNames.map((name, index) => [name, index]));
  const rows = heldOut.labels.flatMap((label, row) => (column.has(label) ? [row] : []));
  if (rows.length === 0) return { temperature: UNCALIBRATED_TEMPERATURE, samples: 0 };
  const features = new Float32Array(rows.length * heldOut.dim);
  rows.forEach((row, i) => features.set(heldOut.features.subarray(row * heldOut.dim, (row + 1) * heldOut.dim), i * heldOut.dim));
  const scores = learner.predict(state, features, rows.length);
  const labels = Int32Array.from(rows, (row) => column.get(heldOut.labels[row]!)!);
  return { temperature: fitTemperature(scores, labels, classNames.length), samples: rows.length };
}

/** The version's fitted temperature; 1 for versions made before calibration existed. */
export function versionTemperature(version: VersionRecord): number {
  const stored = (version.metrics as { calibration?: StoredCalibration }).calibration;
  return stored && Number.isFinite(stored.temperature) && stored.temperature > 0 ? stored.temperature : UNCALIBRATED_TEMPERATURE;
}
