// Temperature scaling (Guo et al., 2017): one scalar T such that softmax(scores / T) is a calibrated
// confidence. Learners' scores are not probabilities (ridge outputs sit near 0..1, cosines in −1..1),
// so a plain softmax over 100 classes would say "3 %" for a sure answer. T is fitted on held-out
// samples at update time by minimizing their negative log-likelihood, and stored with the version,
// so `predict` and an exported model report the same confidence.

/** Confidence when nothing could be fitted (no held-out sample, or a single class). */
export const UNCALIBRATED_TEMPERATURE = 1;

const LOG_T_RANGE: readonly [number, number] = [Math.log(1e-4), Math.log(1e2)];
const ITERATIONS = 60;

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

/** The T in [1e-4, 100] that minimizes the NLL (golden-section search on log T; the NLL is convex in 1/T). */
export function fitTemperature(scores: Float32Array, labels: Int32Array, classCount: number): number {
  if (labels.length === 0 || classCount < 2) return UNCALIBRATED_TEMPERATURE;
  const maxima = rowMaxima(scores, labels.length, classCount);
  const nll = (logT: number) => nllWithMaxima(scores, labels, classCount, maxima, Math.exp(logT));
  const ratio = (Math.sqrt(5) - 1) / 2;
  let [a, b] = LOG_T_RANGE;
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = nll(c);
  let fd = nll(d);
  for (let i = 0; i < ITERATIONS; i++) {
    if (fc < fd) {
      b = d; d = c; fd = fc;
      c = b - ratio * (b - a); fc = nll(c);
    } else {
      a = c; c = d; fc = fd;
      d = a + ratio * (b - a); fd = nll(d);
    }
  }
  return Math.exp((a + b) / 2);
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
