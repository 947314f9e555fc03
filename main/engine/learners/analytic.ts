// Analytic learner: an exact ridge-regression classifier over (L2-normalized) backbone features,
// computed from accumulated statistics, so any sequence of updates gives exactly the model that
// training on all current samples at once would give ("joint"), and removing samples is exact.
//
//   x̃ = [x, 1]                  feature with a bias input appended (x normalized by the l2 plugin)
//   G = Σ x̃ x̃ᵀ                  (D+1)², float64, only the upper triangle is kept
//   B = Σ x̃ yᵀ                  (D+1)×C, y one-hot, so column c = Σ of x̃ over class c
//   (G + λ·diag(1,…,1,0)) W = B  solved by Cholesky; scores = x̃ᵀ W
//
// The bias is not regularized (last diagonal entry gets no λ): L2-normalized features are far
// from centred, and an unpenalized bias absorbs their mean exactly as centring would. It also
// makes one-hot and centred (1, −1/(C−1)) targets equivalent: those are the same affine map of
// every column, which the free bias and a common scale absorb, so argmax is unchanged.
// Measured (below): identical accuracy to 0.01 %.
//
// Measured with MobileNetV2 (reference ONNX) 1280-d features, test-split top-1 (%):
//                          λ:  0.1   0.2   0.3   0.5   1     2     5     10
//   Caltech-101 joint, L2:     89.9  90.2  90.4  90.3  90.1  90.1  89.8  89.0
//   CIFAR-10 joint, L2:        67.5  69.9  70.6  71.1  70.4  70.5  69.0  66.9
//   raw features (best λ):     Caltech 90.3 (λ=300), CIFAR 71.1 (λ=300): as good, but the
//                              best λ depends on the backbone's feature scale; L2 makes it not.
//   standardized (λ·σ²ᵢ):      Caltech 90.3 (λ=1000), CIFAR 70.2 (λ=3000): no better.
//   one-hot vs centred targets, bias regularized or not: same to ±0.2.
//   class-incremental (λ=0.5): Caltech 10×10 final 90.3 / average incremental 92.7;
//                              CIFAR 5×2 final 71.1 / average 78.5 (identical to joint per step).
//   absolute λ vs λ scaled by sample count: within ±0.6 on average incremental; absolute kept.
//   few-shot Caltech (k/class, λ 0.03…3): 1: 68–69, 5: 82–83, 10: 85–87; flat around 0.3–1.
//   NCM for comparison: Caltech 87.7, CIFAR 61.7.
// Default λ = 0.5: best or within 0.1 of best on both sets, and in the flat region.
//
// λ chosen per update (lambdaSelection 'gcv', selectLambdaGcv): generalized cross-validation over
// 0.01…3 from G, B and N alone, so incremental still equals joint (same λ, same W; tested).
// Measured (bench/lambda-taps.ts, 2 cores; final top-1 %, ratio to joint fixed-λ default backbone):
//                               photo  drawing corrupted | Caltech 10×10 | CIFAR 5×2
//   1280-d, fixed λ 0.5:        97.0   71.6    75.3      | 90.3          | 71.1       (reference)
//   1280-d, GCV λ:              97.0   69.8    75.7      | 90.1          | 70.4
//   taps 1696-d, fixed λ 0.5:   96.8   74.4    80.1      | 91.0          | 73.3
//   taps 1696-d, GCV λ:         96.8   74.4    80.8      | 91.0          | 73.0
//   (incremental = joint in every row; domains: photo → drawing → corrupted, 25 classes.)
// GCV does not win (−1.8 drawings, −0.7 CIFAR on 1280-d), so 'fixed' stays the default; it
// costs 6 Cholesky + triangular-inverse pairs per update: +2 s per update at D = 1281
// (Caltech 10 updates 3.7 → 25 s), +3.7 s at D = 1697. The taps backbone wins at fixed λ.
// Cost: the statistics are a float64 Gemm in ONNX Runtime (linalg/gram-onnx.ts), the factorization
// a blocked Cholesky whose trailing updates are ORT Gemms (linalg/cholesky-onnx.ts), the
// triangular solves JS; bench `training` measures each against its JS version.
// Serialized: upper triangle of G (D(D+1)/2 doubles ≈ 6.6 MB) + B + W (≈ 1 MB each at 100 classes); W is stored rather than re-solved so a restored version predicts bit-identically.

import { checkpoint } from './progress.js';
import { bytesToFloat64, decodeContainer, encodeContainer, float64ToBytes, headerField, isFiniteNumber, isString, isStringArray, StateFormatError } from './codec.js';
import { checkCounts, labelColumns, planColumns, remapColumns, validateDelta } from './delta.js';
import { resolveHyperParameters } from './hyper-parameters.js';
import { LearnerInputError, type Learner, type LearnerState, type TrainingDelta, type UpdateContext } from './learner.js';
import { packUpper, symmetrize, unpackUpper } from './linalg/gram.js';
import { accumulateGramOnnx } from './linalg/gram-onnx.js';
import { linearScoresOnnx } from './linalg/scores-onnx.js';
import { affineRows } from '../onnx/row-ops.js';
import { choleskyInPlace, choleskySolveInPlace, NotPositiveDefiniteError } from './linalg/cholesky.js';
import { lowerTriangularInverse, matmul } from './linalg/triangular-inverse-onnx.js';
import { choleskySolveInPlaceOnnx } from './linalg/cholesky-solve-onnx.js';
import { choleskyInPlaceOnnx } from './linalg/cholesky-onnx.js';

export const ANALYTIC_CORE_ID = 'analytic-ridge';

export const ANALYTIC_DEFAULTS = { lambda: 0.5, lambdaSelection: 'fixed' } as const;
/** `fixed`: solve with `lambda`. `gcv`: choose λ from LAMBDA_GRID per update (selectLambdaGcv). */
export type LambdaSelection = 'fixed' | 'gcv';
export type AnalyticHyperParameters = { lambda: number; lambdaSelection: LambdaSelection };
const LAMBDA_SELECTIONS: readonly LambdaSelection[] = ['fixed', 'gcv'];

/** Candidates for `gcv`: a geometric grid around the fixed default (0.5) and the smaller values
 * that won on richer features. */
export const LAMBDA_GRID: readonly number[] = [0.01, 0.03, 0.1, 0.3, 1, 3];

export interface AnalyticState extends LearnerState {
  readonly learnerId: typeof ANALYTIC_CORE_ID;
  /** Feature width D (without the bias input). */
  readonly dim: number;
  /** The λ the weights were solved with (chosen by GCV when lambdaSelection is 'gcv'). */
  readonly lambda: number;
  readonly lambdaSelection: LambdaSelection;
  /** Training samples per class, in classNames order. */
  readonly counts: readonly number[];
  /** (D+1)×(D+1) row-major Σ x̃x̃ᵀ; only the upper triangle (j ≥ i) is meaningful. */
  readonly gram: Float64Array;
  /** (D+1)×C row-major Σ x̃yᵀ. */
  readonly cross: Float64Array;
  /** (D+1)×C row-major ridge solution; the last row is the bias. */
  readonly weights: Float64Array;
}

/** Samples per Gram Gemm between progress reports / abort checks (~40 ms each at D = 1280 on 2 cores;
 * larger chunks mean fewer ORT calls and fewer passes adding the product into the upper triangle). */
export const SAMPLES_PER_CHUNK = 1024;

export const analyticRidge: Learner<AnalyticState> = {
  id: ANALYTIC_CORE_ID,
  defaultHyperParameters: ANALYTIC_DEFAULTS,

  async update(previous, delta, context = {}) {
    if (previous) assertAnalyticState(previous);
    const dim = validateDelta(delta, previous?.dim ?? null);
    // A previous GCV version hands on its chosen λ: switching it to 'fixed' keeps that value.
    const resolved = resolveHyperParameters<AnalyticHyperParameters>(
      ANALYTIC_CORE_ID, ANALYTIC_DEFAULTS, previous ? { lambda: previous.lambda, lambdaSelection: previous.lambdaSelection } : null, context.hyperParameters,
    );
    const { lambdaSelection } = resolved;
    let { lambda } = resolved;
    if (!(lambda > 0) || !Number.isFinite(lambda)) throw new LearnerInputError('lambda must be a positive number');
    if (!LAMBDA_SELECTIONS.includes(lambdaSelection)) throw new LearnerInputError(`lambdaSelection must be one of ${LAMBDA_SELECTIONS.join(', ')}`);
    const d1 = dim + 1;

    // Work on copies in a column layout that still has the dropped classes, so their samples
    // can be subtracted before the columns go.
    const plan = planColumns(previous?.classNames ?? [], delta.classNames);
    const C = plan.working.length;
    const gram = previous ? previous.gram.slice() : new Float64Array(d1 * d1);
    const cross = previous ? remapColumns(previous.cross, d1, previous.classNames, plan.working) : new Float64Array(d1 * C);
    const previousCounts = new Map(previous?.classNames.map((name, i) => [name, previous.counts[i]!]) ?? []);
    const counts = plan.working.map((name) => previousCounts.get(name) ?? 0);

    // Progress in samples; the solve counts as a quarter of the statistics work (measured:
    // 0.35 s against 1.2 s per 3000 samples at D = 1281).
    const work = delta.added.count + delta.removed.count;
    const total = work + Math.max(1, Math.ceil(work / 4));
    let done = 0;
    for (const [part, sign] of [[delta.added, 1], [delta.removed, -1]] as const) {
      const columns = labelColumns(part.labels, plan, sign > 0 ? 'added' : 'removed');
      for (let start = 0; start < part.count; start += SAMPLES_PER_CHUNK) {
        await checkpoint(context, done, total);
        const end = Math.min(part.count, start + SAMPLES_PER_CHUNK);
        await accumulateGramOnnx(gram, part.features, dim, start, end, sign);
        accumulateClassSums(cross, C, part.features, dim, columns, start, end, sign);
        for (let s = start; s < end; s++) counts[columns[s]!]! += sign;
        done += end - start;
      }
    }
    checkCounts(plan.working, counts, plan.keep);

    const classNames = [...delta.classNames];
    const keptCounts = counts.slice(0, plan.keep);
    const keptCross = remapColumns(cross, d1, plan.working, classNames);
    const sampleCount = keptCounts.reduce((a, b) => a + b, 0);
    if (sampleCount === 0) {
      // Nothing left: reset to exact zeros instead of carrying subtraction rounding forward.
      gram.fill(0);
      keptCross.fill(0);
    }
    await checkpoint(context, work, total);
    if (lambdaSelection === 'gcv' && sampleCount > 0) {
      lambda = (await selectLambdaGcv(gram, keptCross, dim, classNames.length, sampleCount)).lambda;
      await checkpoint(context, work, total);
    }
    const weights = sampleCount > 0 ? await solveRidge(gram, keptCross, dim, classNames.length, lambda) : new Float64Array(d1 * classNames.length);
    context.onProgress?.(total, total);
    return Object.freeze({
      learnerId: ANALYTIC_CORE_ID, classNames: Object.freeze(classNames), dim, lambda, lambdaSelection,
      counts: Object.freeze(keptCounts), gram, cross: keptCross, weights,
    });
  },

  async predict(state, features, count) {
    assertAnalyticState(state);
    if (features.length !== count * state.dim) throw new LearnerInputError(`expected ${count}×${state.dim} features, got ${features.length} floats`);
    return (
      (await linearScoresOnnx(features, count, state.dim, state.weights, state.counts)) ??
      linearScores(features, count, state.dim, state.weights, state.counts)
    );
  },

  exportScores(state, graph, features, dim) {
    assertAnalyticState(state);
    if (dim !== state.dim) throw new LearnerInputError(`expected ${state.dim}-wide features, got ${dim}`);
    const C = state.counts.length;
    // W's first D rows multiply the features; its last row is the bias (see linearScores).
    const weights = Float32Array.from(state.weights.subarray(0, dim * C));
    const bias = Float32Array.from(state.counts, (n, c) => (n > 0 ? state.weights[dim * C + c]! : -Infinity));
    return affineRows(graph, features, weights, bias, 'ridge_scores');
  },

  classNames: (state) => state.classNames,

  serialize(state) {
    assertAnalyticState(state);
    const header = { learnerId: state.learnerId, format: 1, classNames: state.classNames, counts: state.counts, dim: state.dim, lambda: state.lambda,
      // Only written when not the default, so fixed-λ states stay byte-identical to before.
      ...(state.lambdaSelection !== 'fixed' ? { lambdaSelection: state.lambdaSelection } : {}) };
    return encodeContainer(header, [
      float64ToBytes(packUpper(state.gram, state.dim + 1)),
      float64ToBytes(state.cross),
      float64ToBytes(state.weights),
    ]);
  },

  deserialize(bytes) {
    const { header, sections } = decodeContainer(bytes);
    if (headerField(header, 'learnerId', isString) !== ANALYTIC_CORE_ID) throw new StateFormatError('not an analytic learner state');
    if (headerField(header, 'format', isFiniteNumber) !== 1) throw new StateFormatError('unknown analytic state format');
    const classNames = headerField(header, 'classNames', isStringArray);
    const counts = headerField(header, 'counts', (v): v is number[] => Array.isArray(v) && v.every(isFiniteNumber));
    const dim = headerField(header, 'dim', isFiniteNumber);
    const lambda = headerField(header, 'lambda', isFiniteNumber);
    const lambdaSelection = (header as Record<string, unknown>).lambdaSelection ?? 'fixed'; // absent in states from before it existed
    if (!LAMBDA_SELECTIONS.includes(lambdaSelection as LambdaSelection)) throw new StateFormatError('unknown lambdaSelection');
    const [gramSection, crossSection, weightSection] = sections;
    if (sections.length !== 3 || !gramSection || !crossSection || !weightSection || counts.length !== classNames.length) {
      throw new StateFormatError('analytic state has the wrong sections');
    }
    const d1 = dim + 1;
    const C = classNames.length;
    return Object.freeze({
      learnerId: ANALYTIC_CORE_ID, classNames: Object.freeze(classNames), dim, lambda, lambdaSelection: lambdaSelection as LambdaSelection, counts: Object.freeze(counts),
      gram: unpackUpper(bytesToFloat64(gramSection, (d1 * (d1 + 1)) / 2), d1),
      cross: bytesToFloat64(crossSection, d1 * C),
      weights: bytesToFloat64(weightSection, d1 * C),
    });
  },
};

/**
 * Solves (G + λ·diag(1,…,1,0)) W = B for the (D+1)×C weights. `gram` is read (upper triangle)
 * and not modified. The factorization runs blocked with its bulk on ONNX Runtime
 * (linalg/cholesky-onnx.ts, equal to rounding) unless `factor` is 'js'. Exported for the
 * benchmark and λ sweeps, which re-solve one G many times.
 */
export async function solveRidge(gram: Float64Array, cross: Float64Array, dim: number, classes: number, lambda: number, factor: 'onnx' | 'js' = 'onnx'): Promise<Float64Array> {
  const d1 = dim + 1;
  const system = gram.slice();
  symmetrize(system, d1);
  for (let i = 0; i < dim; i++) system[i * d1 + i]! += lambda;
  if (factor === 'onnx') await choleskyInPlaceOnnx(system, d1);
  else choleskyInPlace(system, d1);
  const weights = cross.slice();
  if (factor === 'onnx') await choleskySolveInPlaceOnnx(system, d1, weights, classes);
  else choleskySolveInPlace(system, d1, weights, classes);
  return weights;
}

export interface LambdaScore {
  lambda: number;
  /** Σ over samples and classes of ‖y − ŷ‖² on the training data. */
  rss: number;
  /** Effective degrees of freedom tr(H), bias included. */
  dof: number;
  /** N·RSS / (N − tr H)²: lower is better. */
  gcv: number;
}

/**
 * Generalized cross-validation over LAMBDA_GRID, from the statistics alone (so the choice is a
 * function of G, B and N, the same for incremental and joint training; held-out data is never
 * seen). With A = G + λ·diag(1,…,1,0) = L·Lᵀ, X = L⁻¹, Z = X·B, W = Xᵀ·Z:
 *   RSS(λ) = tr(YᵀY) − 2·tr(WᵀB) + tr(WᵀGW) = N − ‖Z‖² − λ·‖W without bias row‖²
 *            (one-hot Y: tr(YᵀY) = N; GW = B − λ·D·W)
 *   tr H(λ) = tr(A⁻¹G) = (D+1) − λ·Σ_{i<D} (A⁻¹)ᵢᵢ = (D+1) − λ·(‖X‖² − X_DD²)
 *            ((A⁻¹)ᵢᵢ is the squared norm of column i of X; column D holds only X_DD)
 * The unpenalized bias counts as one full degree of freedom, as centring would.
 * Cost per candidate: one blocked Cholesky and one blocked triangular inverse (both mostly ORT
 * Gemms), two Gemms with B. Ties go to the larger λ.
 */
export async function selectLambdaGcv(
  gram: Float64Array, cross: Float64Array, dim: number, classes: number, sampleCount: number, grid: readonly number[] = LAMBDA_GRID,
): Promise<{ lambda: number; scores: LambdaScore[] }> {
  const d1 = dim + 1;
  const scores: LambdaScore[] = [];
  for (const lambda of grid) {
    const system = gram.slice();
    symmetrize(system, d1);
    for (let i = 0; i < dim; i++) system[i * d1 + i]! += lambda;
    try {
      await choleskyInPlaceOnnx(system, d1);
    } catch (error) {
      if (error instanceof NotPositiveDefiniteError) continue; // numerically singular at this λ: not a candidate
      throw error;
    }
    const x = await lowerTriangularInverse(system, d1);
    let inverseNorm = 0;
    for (let i = 0; i < d1; i++) for (let j = i * d1, end = j + i + 1; j < end; j++) inverseNorm += x[j]! * x[j]!;
    const xLast = x[dim * d1 + dim]!;
    const z = await matmul(x, cross, d1, d1, classes);
    const w = await matmul(x, z, d1, d1, classes, true);
    let zNorm = 0;
    for (const v of z) zNorm += v * v;
    let wNorm = 0;
    for (let i = 0; i < dim * classes; i++) wNorm += w[i]! * w[i]!;
    const rss = Math.max(0, sampleCount - zNorm - lambda * wNorm);
    const dof = d1 - lambda * (inverseNorm - xLast * xLast);
    const residualDof = sampleCount - dof;
    scores.push({ lambda, rss, dof, gcv: residualDof > 0 ? (sampleCount * rss) / (residualDof * residualDof) : Infinity });
  }
  if (scores.length === 0) throw new LearnerInputError('no λ of the grid gives a positive-definite system');
  let best = scores[0]!;
  for (const score of scores) if (score.gcv <= best.gcv) best = score;
  return { lambda: best.lambda, scores };
}

/** B[:, c] += sign · x̃ for each sample of class c (columns given per sample). */
function accumulateClassSums(
  cross: Float64Array, classes: number, features: Float32Array, dim: number,
  columns: Int32Array, start: number, end: number, sign: 1 | -1,
): void {
  for (let s = start; s < end; s++) {
    const c = columns[s]!;
    const row = s * dim;
    for (let j = 0; j < dim; j++) cross[j * classes + c]! += sign * features[row + j]!;
    cross[dim * classes + c]! += sign;
  }
}

/** count×C scores x̃ᵀW as float32; classes with no training sample score −Infinity. */
export function linearScores(
  features: Float32Array, count: number, dim: number, weights: Float64Array, counts: readonly number[],
): Float32Array {
  if (features.length !== count * dim) throw new LearnerInputError(`expected ${count}×${dim} features, got ${features.length} floats`);
  const C = counts.length;
  const out = new Float32Array(count * C);
  const acc = new Float64Array(C);
  const bias = weights.subarray(dim * C, dim * C + C);
  for (let r = 0; r < count; r++) {
    acc.set(bias);
    const row = r * dim;
    for (let j = 0; j < dim; j++) {
      const x = features[row + j]!;
      if (x === 0) continue;
      const w = j * C;
      for (let c = 0; c < C; c++) acc[c]! += x * weights[w + c]!;
    }
    for (let c = 0; c < C; c++) out[r * C + c] = counts[c]! > 0 ? acc[c]! : -Infinity;
  }
  return out;
}

function assertAnalyticState(state: LearnerState): asserts state is AnalyticState {
  if (state.learnerId !== ANALYTIC_CORE_ID) throw new LearnerInputError(`state of "${state.learnerId}" given to ${ANALYTIC_CORE_ID}`);
}
