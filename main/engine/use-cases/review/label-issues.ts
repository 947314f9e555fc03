// Possible label errors by confident learning (Northcutt, Jiang & Chuang, 2021), from
// out-of-sample probabilities: each class j gets a threshold t_j, the mean probability of j over
// the samples labeled j (its "self-confidence"). A sample labeled y counts as confidently of
// class j* = the most probable class among those j with p_j ≥ t_j; it is a suspected label error
// when j* ≠ y and its own label is below its class's threshold (p_y < t_y). Suspects are ranked
// by the margin p_j* − p_y (cleanlab's normalized margin), most suspicious first.

export interface LabelIssue {
  /** row of the input */
  row: number;
  given: number;
  suggested: number;
  givenProbability: number;
  suggestedProbability: number;
  margin: number;
}

/**
 * `probabilities`: rows × classCount, each row summing to 1, from a model that never saw that
 * row; `labels`: each row's given class (column index). Rows whose label is negative are skipped
 * (not judged) and count toward no threshold.
 */
export function findLabelIssues(probabilities: Float64Array, labels: Int32Array, classCount: number): LabelIssue[] {
  const sums = new Float64Array(classCount);
  const counts = new Float64Array(classCount);
  labels.forEach((label, row) => {
    if (label < 0) return;
    sums[label]! += probabilities[row * classCount + label]!;
    counts[label]!++;
  });
  const thresholds = Float64Array.from(sums, (sum, c) => (counts[c]! > 0 ? sum / counts[c]! : Infinity));
  const issues: LabelIssue[] = [];
  labels.forEach((given, row) => {
    if (given < 0) return;
    const offset = row * classCount;
    let confident = -1;
    for (let c = 0; c < classCount; c++) {
      const p = probabilities[offset + c]!;
      if (p >= thresholds[c]! && (confident < 0 || p > probabilities[offset + confident]!)) confident = c;
    }
    const givenProbability = probabilities[offset + given]!;
    if (confident < 0 || confident === given || !(givenProbability < thresholds[given]!)) return;
    const suggestedProbability = probabilities[offset + confident]!;
    issues.push({ row, given, suggested: confident, givenProbability, suggestedProbability, margin: suggestedProbability - givenProbability });
  });
  return issues.sort((a, b) => b.margin - a.margin || a.row - b.row);
}
