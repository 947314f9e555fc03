// Temperature scaling (Guo et al., 2017): one scalar T such that softmax(scores / T) is a calibrated
// confidence. Learners' scores are not probabilities (ridge outputs sit near 0..1, cosines in −1..1),
// so a plain softmax over 100 classes would say "3 %" for a sure answer. T is fitted on held-out
// samples at update time by minimizing their negative log-likelihood, and stored with the version,
// so `predict` and an exported model report the same confidence.

/** Confidence when nothing could be fitted (no held-out sample, or a single class). */
export const UNCALIBRATED_TEMPERATURE = 1;


/** Mean negative log-likelihood of `labels` under softmax(scores / T); −Infinity scores are impossible classes. */
export function meanNegativeLogLikelihood(scores: Float32Array, labels: Int32Array, classCount: number, temperature: number): number {
  return nllWithMaxima(scores, labels, classCount, rowMaxima(scores, labels.length, classCount), temperature);
}

/** Each row's largest score (independent of T, so the fit computes them once). */
function rowMaxima(scores: Float32Array, rows: number, classCount: number): Float64Array {
  const maxima = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    let max = -Infinity;
    const offset = n * classCount;
    for (let c = 0; c < classCount; c++) if (scores[offset + c]! > max) max = scores[offset + c]!;
    maxima[n] = max;
  }
  return maxima;
}

/** The same sums as a plain per-row loop, with indexed reads instead of a subarray and iterator per row. */
function nllWithMaxima(scores: Float32Array, labels: Int32Array, classCount: number, maxima: Float64Array, temperature: number): number {
  let total = 0;
  for (let n = 0; n < labels.length; n++) {
    const offset = n * classCount;
    const max = maxima[n]!;
    let sum = 0;
    for (let c = 0; c < classCount; c++) sum += Math.exp((scores[offset + c]! - max) / temperature);
    total += Math.log(sum) - (scores[offset + labels[n]!]! - max) / temperature;
  }
  return labels.length === 0 ? 0 : total / labels.length;
}

/** β = 1/T bounds: T in [1e-4, 100]. */
const BETA_RANGE: readonly [number, number] = [1 / 100, 1 / 1e-4];
const MAX_NEWTON_STEPS = 60;

/**
 * The NLL's first and second derivatives in β = 1/T (mean over rows): with s′ = s − max,
 * d/dβ = E_p[s′] − s′_label and d²/dβ² = Var_p[s′] ≥ 0 under p = softmax(β s′). One exp per score.
 * Rows whose label is an impossible class (−∞) say nothing about T and are left out.
 */
function nllSlope(scores: Float32Array, labels: Int32Array, classCount: number, maxima: Float64Array, beta: number): { first: number; second: number } {
  let first = 0;
  let second = 0;
  let rows = 0;
  for (let n = 0; n < labels.length; n++) {
    const offset = n * classCount;
    const max = maxima[n]!;
    const own = scores[offset + labels[n]!]! - max;
    if (!Number.isFinite(own)) continue;
    let z = 0;
    let mean = 0;
    let square = 0;
    for (let c = 0; c < classCount; c++) {
      const shifted = scores[offset + c]! - max;
      if (shifted === -Infinity) continue; // an impossible class: weight 0
      const w = Math.exp(beta * shifted);
      z += w;
      mean += w * shifted;
      square += w * shifted * shifted;
    }
    mean /= z;
    first += mean - own;
    second += square / z - mean * mean;
    rows++;
  }
  return rows === 0 ? { first: 0, second: 0 } : { first: first / rows, second: second / rows };
}

/**
 * The T in [1e-4, 100] that minimizes the NLL. The NLL is convex in β = 1/T, so its slope is
 * increasing: Newton steps on the slope, kept inside a bracket that every step narrows (a step
 * that would leave it bisects geometrically instead). About ten passes over the scores, where a
 * golden-section search on log T took sixty (7 s at 6,000 held-out samples × 1,000 classes).
 */
export function fitTemperature(scores: Float32Array, labels: Int32Array, classCount: number): number {
  if (labels.length === 0 || classCount < 2) return UNCALIBRATED_TEMPERATURE;
  const maxima = rowMaxima(scores, labels.length, classCount);
  const slope = (beta: number) => nllSlope(scores, labels, classCount, maxima, beta);
  let [low, high] = BETA_RANGE;
  if (slope(low).first >= 0) return 1 / low; // the NLL only grows with β: the highest T
  if (slope(high).first <= 0) return 1 / high;
  let beta = Math.min(Math.max(1 / UNCALIBRATED_TEMPERATURE, low), high);
  for (let step = 0; step < MAX_NEWTON_STEPS; step++) {
    const { first, second } = slope(beta);
    if (first === 0) break;
    if (first > 0) high = beta;
    else low = beta;
    let next = second > 0 ? beta - first / second : Number.NaN;
    if (!(next > low && next < high)) next = Math.sqrt(low * high);
    const converged = Math.abs(next - beta) <= 1e-10 * beta;
    beta = next;
    if (converged || high / low < 1 + 1e-12) break;
  }
  return 1 / beta;
}

/** softmax(scores / T) of one row, as float64. */
export function confidences(row: Float32Array, temperature: number): Float64Array {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  const out = new Float64Array(row.length);
  let sum = 0;
  row.forEach((v, c) => {
    out[c] = Math.exp((v - max) / temperature);
    sum += out[c]!;
  });
  for (let c = 0; c < out.length; c++) out[c]! /= sum;
  return out;
}
