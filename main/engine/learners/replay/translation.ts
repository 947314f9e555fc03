// Old-class pseudo-features by feature translation (FeTrIL, Petit et al. 2023): a real sample x
// of a class k is moved to old class c as μ_c + (x − μ_k). With a frozen backbone the spread of
// features around their class mean is similar across classes, so this gives old classes as many
// plausible samples as the new data has, from their stored means alone (no stored samples).
import type { LabeledFeatures } from '../learner.js';
import { classMean, type ClassStatistics } from './class-statistics.js';

/** How many pseudo-features translatedFeatures makes. */
export function translatedCount(targets: readonly number[], sources: LabeledFeatures, perClass: number): number {
  return sources.count === 0 ? 0 : targets.length * perClass;
}

/**
 * `perClass` pseudo-features for each of `targets` (class indices), translated from samples of
 * `sources` drawn with `random` (sources must be labeled with classes of `statistics`); written
 * into `into` when given (translatedCount rows), so the caller's training matrix needs no copy.
 */
export function translatedFeatures(
  statistics: ClassStatistics, targets: readonly number[], sources: LabeledFeatures, perClass: number, random: () => number, into?: Float32Array,
): LabeledFeatures {
  const { dim } = statistics;
  if (translatedCount(targets, sources, perClass) === 0) return { features: new Float32Array(0), labels: [], count: 0, dim };
  const index = new Map(statistics.classNames.map((name, c) => [name, c]));
  const sourceMeans = new Map<number, Float64Array>();
  const meanOf = (c: number) => {
    let mean = sourceMeans.get(c);
    if (!mean) sourceMeans.set(c, (mean = classMean(statistics, c)));
    return mean;
  };
  const count = targets.length * perClass;
  const features = into ?? new Float32Array(count * dim);
  if (features.length !== count * dim) throw new Error(`translated features: room for ${features.length / dim} rows, ${count} needed`);
  const labels: string[] = [];
  let row = 0;
  for (const c of targets) {
    const target = meanOf(c);
    for (let k = 0; k < perClass; k++, row++) {
      const s = Math.floor(random() * sources.count);
      const source = meanOf(index.get(sources.labels[s]!)!);
      for (let j = 0; j < dim; j++) features[row * dim + j] = target[j]! + sources.features[s * dim + j]! - source[j]!;
      labels.push(statistics.classNames[c]!);
    }
  }
  return { features, labels, count, dim };
}

