// Accuracy of one model version on its held-out samples, split the way class-incremental
// learning cares about: classes it already knew ("retained") vs classes it just learned ("new"),
// plus forgetting against a reference, and the standard multi-step summaries.
// Every accuracy is a fraction in [0, 1], or null when there is nothing to measure (never NaN).

export interface ClassAccuracy {
  readonly className: string;
  /** Held-out samples of this class. */
  readonly count: number;
  readonly correct: number;
  readonly accuracy: number | null;
}

export interface ConfusionMatrix {
  /** Row and column order. */
  readonly classes: readonly string[];
  /** counts[t][p]: samples of classes[t] predicted as classes[p]. */
  readonly counts: readonly (readonly number[])[];
}

export interface Forgetting {
  /** Mean over compared old classes of max(0, reference − current); null if none compared. */
  readonly mean: number | null;
  /** reference − current per compared class (negative: it improved). */
  readonly perClass: Readonly<Record<string, number>>;
}

export interface EvaluationReport {
  readonly sampleCount: number;
  readonly overall: number | null;
  /** Accuracy on samples of old classes that still exist. */
  readonly retained: number | null;
  /** Accuracy on samples of classes added in this update. */
  readonly new: number | null;
  /** One entry per class, in confusion-matrix order. */
  readonly perClass: readonly ClassAccuracy[];
  readonly confusion: ConfusionMatrix;
  readonly forgetting: Forgetting;
}

export interface EvaluationInput {
  /** True class of each held-out sample. */
  readonly truth: readonly string[];
  /** Predicted class of each held-out sample, same order. */
  readonly predicted: readonly string[];
  /** The version's classes, in output order; fixes the confusion order (other names seen in
   * truth or predicted are appended, sorted). Old classes absent from it don't count as retained. */
  readonly classNames?: readonly string[];
  /** Classes added in this update. */
  readonly newClasses: readonly string[];
  /** Classes of the previous version; default: every class of classNames not in newClasses. */
  readonly oldClasses?: readonly string[];
  /** Per-class accuracy to measure forgetting against: the previous version's (e.g.
   * accuracyByClass of its report, or of its predictions on these same samples), or the
   * standard continual-learning reference, bestSoFar(history). Omitted: no forgetting measured. */
  readonly reference?: Readonly<Record<string, number | null>>;
}

export function evaluatePredictions(input: EvaluationInput): EvaluationReport {
  const { truth, predicted } = input;
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true labels but ${predicted.length} predictions`);
  const classes = confusionOrder(input.classNames ?? [], truth, predicted);
  const index = new Map(classes.map((name, i) => [name, i]));
  const counts = classes.map(() => new Array<number>(classes.length).fill(0));
  truth.forEach((t, i) => counts[index.get(t)!]![index.get(predicted[i]!)!]! += 1);

  const perClass: ClassAccuracy[] = classes.map((className, i) => {
    const row = counts[i]!;
    const count = row.reduce((a, b) => a + b, 0);
    const correct = row[i]!;
    return { className, count, correct, accuracy: ratio(correct, count) };
  });

  const newSet = new Set(input.newClasses);
  const current = input.classNames ? new Set(input.classNames) : null;
  const oldSet = new Set((input.oldClasses ?? input.classNames?.filter((c) => !newSet.has(c)) ?? []).filter((c) => !current || current.has(c)));
  const groupAccuracy = (members: ReadonlySet<string>): number | null => {
    const rows = perClass.filter((c) => members.has(c.className));
    return ratio(sum(rows.map((c) => c.correct)), sum(rows.map((c) => c.count)));
  };

  return {
    sampleCount: truth.length,
    overall: ratio(sum(perClass.map((c) => c.correct)), truth.length),
    retained: groupAccuracy(oldSet),
    new: groupAccuracy(newSet),
    perClass,
    confusion: { classes, counts },
    forgetting: forgettingAgainst(input.reference ?? {}, perClass.filter((c) => oldSet.has(c.className))),
  };
}

/** Per-class accuracies of a report as a record: what to keep as the next version's reference. */
export function accuracyByClass(report: Pick<EvaluationReport, 'perClass'>): Record<string, number | null> {
  return Object.fromEntries(report.perClass.map((c) => [c.className, c.accuracy]));
}

/** Best accuracy each class has had over earlier versions (null entries ignored): the reference
 * of the standard forgetting measure (Chaudhry et al. 2018), max over l < t of a_l − a_t. */
export function bestSoFar(history: readonly Readonly<Record<string, number | null>>[]): Record<string, number> {
  const best: Record<string, number> = {};
  for (const step of history) {
    for (const [className, accuracy] of Object.entries(step)) {
      if (accuracy !== null && accuracy > (best[className] ?? -Infinity)) best[className] = accuracy;
    }
  }
  return best;
}

/** Mean of the overall accuracy after each step (steps without held-out samples skipped). */
export function averageIncrementalAccuracy(overallPerStep: readonly (number | null)[]): number | null {
  const measured = overallPerStep.filter((a): a is number => a !== null);
  return ratio(sum(measured), measured.length);
}

/** Overall accuracy after the last step. */
export function finalAccuracy(overallPerStep: readonly (number | null)[]): number | null {
  return overallPerStep.length === 0 ? null : overallPerStep[overallPerStep.length - 1]!;
}

function forgettingAgainst(reference: Readonly<Record<string, number | null>>, oldClasses: readonly ClassAccuracy[]): Forgetting {
  const perClass: Record<string, number> = {};
  const drops: number[] = [];
  for (const { className, accuracy } of oldClasses) {
    const before = reference[className];
    if (before === undefined || before === null || accuracy === null) continue;
    perClass[className] = before - accuracy;
    drops.push(Math.max(0, before - accuracy));
  }
  return { mean: ratio(sum(drops), drops.length), perClass };
}

function confusionOrder(classNames: readonly string[], truth: readonly string[], predicted: readonly string[]): string[] {
  const known = new Set(classNames);
  const extra = [...new Set([...truth, ...predicted])].filter((c) => !known.has(c)).sort();
  return [...classNames, ...extra];
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
