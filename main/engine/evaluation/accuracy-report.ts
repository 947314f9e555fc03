import type { AccuracyReport } from '../api/contract.js';
import { accuracyByClass, evaluatePredictions } from './index.js';
import type { LabeledFeatures, Learner } from '../learners/index.js';
import { accuracyBySubGroup } from './sub-groups.js';

/** The arg-max class of each row, per the learner's scores. */
export async function predictClassNames<S>(learner: Learner<S>, state: S, samples: LabeledFeatures): Promise<string[]> {
  if (samples.count === 0) return [];
  return argmaxClassNames(await learner.predict(state, samples.features, samples.count), samples.count, learner.classNames(state));
}

/** The arg-max class of each row of count × C scores. */
export function argmaxClassNames(scores: Float32Array, count: number, classNames: readonly string[]): string[] {
  const columns = classNames.length;
  const predicted: string[] = [];
  for (let row = 0; row < count; row++) {
    let best = 0;
    for (let column = 1; column < columns; column++) {
      if (scores[row * columns + column]! > scores[row * columns + best]!) best = column;
    }
    predicted.push(classNames[best]!);
  }
  return predicted;
}

/**
 * The public accuracy report: retained / new / overall, per class, confusion, and — when the
 * previous version's predictions on the same samples are given — forgetting against it; with
 * each sample's sub-group, accuracy per sub-group of the classes that have them.
 */
export function buildAccuracyReport(input: {
  truth: readonly string[];
  predicted: readonly string[];
  previousPredicted: readonly string[] | null;
  classNames: readonly string[];
  newClasses: readonly string[];
  /** Each sample's sub-group (null: top level of its class), and the sub-groups each class has. */
  subGroups?: { of: readonly (string | null)[]; known: ReadonlyMap<string, ReadonlySet<string | null>> };
}): AccuracyReport {
  const reference = input.previousPredicted
    ? accuracyByClass(evaluatePredictions({ truth: input.truth, predicted: input.previousPredicted, newClasses: [] }))
    : undefined;
  const report = evaluatePredictions({
    truth: input.truth,
    predicted: input.predicted,
    classNames: input.classNames,
    newClasses: input.newClasses,
    ...(reference ? { reference } : {}),
  });
  const newClasses = new Set(input.newClasses);
  const current = accuracyByClass(report);
  const perGroup = input.subGroups
    ? accuracyBySubGroup({ truth: input.truth, predicted: input.predicted, groups: input.subGroups.of, knownGroups: input.subGroups.known, classOrder: report.confusion.classes })
    : undefined;
  return {
    sampleCount: report.sampleCount,
    retained: report.retained,
    new: report.new,
    overall: report.overall,
    perClass: report.perClass.map((entry) => ({
      className: entry.className,
      group: newClasses.has(entry.className) ? 'new' : 'retained',
      accuracy: entry.accuracy,
      correct: entry.correct,
      count: entry.count,
    })),
    confusion: { classNames: [...report.confusion.classes], counts: report.confusion.counts.map((row) => [...row]) },
    forgetting: reference
      ? {
          mean: report.forgetting.mean,
          perClass: Object.entries(report.forgetting.perClass).map(([className, drop]) => ({
            className,
            previous: reference[className] ?? null,
            current: current[className] ?? null,
            drop,
          })),
        }
      : null,
    ...(perGroup ? { perGroup } : {}),
  };
}
