// Calibrated confidence for a model version: the temperature is fitted once, on the held-out
// samples of the update that made the version, and read back by predict and export.
import { fitTemperature, UNCALIBRATED_TEMPERATURE } from './calibration.js';
import type { VersionRecord } from '../store/versions.js';
import type { StoredVersionMetrics } from '../use-cases/version-summary.js';

export interface StoredCalibration {
  temperature: number;
  /** Held-out samples the temperature was fitted on (0: not fitted, temperature 1). */
  samples: number;
}

/** Fits the temperature on the held-out samples' scores (count × C, classNames order). */
export function calibrateOnHeldOut(scores: Float32Array, labels: readonly string[], classNames: readonly string[]): StoredCalibration {
  const column = new Map(classNames.map((name, index) => [name, index]));
  const rows = labels.flatMap((label, row) => (column.has(label) ? [row] : []));
  if (rows.length === 0) return { temperature: UNCALIBRATED_TEMPERATURE, samples: 0 };
  const C = classNames.length;
  const known = rows.length === labels.length ? scores : new Float32Array(rows.length * C);
  if (known !== scores) rows.forEach((row, i) => known.set(scores.subarray(row * C, (row + 1) * C), i * C));
  const indices = Int32Array.from(rows, (row) => column.get(labels[row]!)!);
  return { temperature: fitTemperature(known, indices, C), samples: rows.length };
}

/** The version's fitted temperature; 1 for versions made before calibration existed. */
export function versionTemperature(version: VersionRecord): number {
  const stored = (version.metrics as StoredVersionMetrics).calibration;
  return stored && Number.isFinite(stored.temperature) && stored.temperature > 0 ? stored.temperature : UNCALIBRATED_TEMPERATURE;
}
