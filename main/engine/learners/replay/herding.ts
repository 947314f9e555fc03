// iCaRL herding: picks exemplars one by one so that the mean of those picked so far stays as
// close as possible to the class mean. The pick order is meaningful: a prefix of a herding
// selection is itself a herding selection, so shrinking a class's share keeps its first picks.

/**
 * Indices (into the `count` candidate rows) of up to `k` exemplars, in pick order.
 * `target` is the class mean the exemplars should represent (dim floats).
 */
export function herdingSelection(candidates: Float32Array, count: number, dim: number, target: Float64Array, k: number): number[] {
  const picks: number[] = [];
  const taken = new Uint8Array(count);
  const sum = new Float64Array(dim);
  for (let m = 1; m <= Math.min(k, count); m++) {
    let best = -1;
    let bestDistance = Infinity;
    for (let i = 0; i < count; i++) {
      if (taken[i]) continue;
      // ‖target − (sum + x)/m‖², compared without the constant terms would save little: keep it plain.
      let distance = 0;
      const row = i * dim;
      for (let j = 0; j < dim; j++) {
        const d = target[j]! - (sum[j]! + candidates[row + j]!) / m;
        distance += d * d;
      }
      if (distance < bestDistance) {
        bestDistance = distance;
        best = i;
      }
    }
    taken[best] = 1;
    picks.push(best);
    for (let j = 0; j < dim; j++) sum[j]! += candidates[best * dim + j]!;
  }
  return picks;
}
