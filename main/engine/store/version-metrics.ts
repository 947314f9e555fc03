// How a version's metrics JSON is stored: as the engine made it, except the confusion matrix,
// which is kept as its non-zero cells. A C × C matrix of held-out counts has at most one non-zero
// cell per held-out sample, so at 1,000 classes the dense form is mostly zeros (2 MB of JSON a
// version); callers still get the dense `counts` the API promises.

type SparseCell = [number, number, number];

interface DenseConfusion {
  classNames: string[];
  counts: number[][];
}

interface SparseConfusion {
  classNames: string[];
  sparse: SparseCell[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function confusionOf(metrics: unknown): unknown {
  return isRecord(metrics) && isRecord(metrics.report) ? metrics.report.confusion : undefined;
}

function withConfusion(metrics: Record<string, unknown>, confusion: unknown): Record<string, unknown> {
  return { ...metrics, report: { ...(metrics.report as Record<string, unknown>), confusion } };
}

export function encodeVersionMetrics(metrics: unknown): string {
  const confusion = confusionOf(metrics) as DenseConfusion | undefined;
  if (!confusion || !Array.isArray(confusion.counts)) return JSON.stringify(metrics);
  const sparse: SparseCell[] = [];
  confusion.counts.forEach((row, truth) => row.forEach((count, predicted) => count !== 0 && sparse.push([truth, predicted, count])));
  return JSON.stringify(withConfusion(metrics as Record<string, unknown>, { classNames: confusion.classNames, sparse } satisfies SparseConfusion));
}

export function decodeVersionMetrics(json: string): unknown {
  const metrics: unknown = JSON.parse(json);
  const confusion = confusionOf(metrics) as SparseConfusion | undefined;
  if (!confusion || !Array.isArray(confusion.sparse)) return metrics; // dense (rows before schema 4), or none
  const size = confusion.classNames.length;
  const counts = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (const [truth, predicted, count] of confusion.sparse) counts[truth]![predicted] = count;
  return withConfusion(metrics as Record<string, unknown>, { classNames: confusion.classNames, counts } satisfies DenseConfusion);
}
