import { seededRandom } from '../main/engine/learners/seeded-random.js';
import { describe, expect, it } from 'vitest';
import {
  analyticRidge, getLearner, LearnerInputError, learnerIds, l2Normalize, nearestClassMean, noFeatures, StateFormatError, withPlugins,
  type AnalyticState, type ComposedState, type LabeledFeatures, type LearnerPlugin, type LearnerState, type NcmState, type TrainingDelta,
} from '../main/engine/learners/index.js';
import { choleskyInPlace, choleskySolveInPlace } from '../main/engine/learners/linalg/cholesky.js';
import { choleskyInPlaceOnnx } from '../main/engine/learners/linalg/cholesky-onnx.js';
import { choleskySolveInPlaceOnnx } from '../main/engine/learners/linalg/cholesky-solve-onnx.js';
import { lowerTriangularInverse } from '../main/engine/learners/linalg/triangular-inverse-onnx.js';
import { LAMBDA_GRID, selectLambdaGcv } from '../main/engine/learners/analytic.js';

// Synthetic Gaussian clusters: exactness is a property of the math, not of the data, and tests
// must not depend on embedding files. Real-data accuracy lives in the benchmarks.


function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const DIM = 24;

/** `perClass` samples of each class around a class-specific centre (non-negative, like ReLU features). */
function clusters(classNames: readonly string[], perClass: number, seed: number, dim = DIM): LabeledFeatures {
  const random = seededRandom(seed);
  const centres = new Map(classNames.map((name) => {
    const centreRandom = seededRandom([...name].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 7));
    return [name, Array.from({ length: dim }, () => 2 * centreRandom())];
  }));
  const labels: string[] = [];
  const features = new Float32Array(classNames.length * perClass * dim);
  let row = 0;
  for (const name of classNames) {
    for (let i = 0; i < perClass; i++, row++) {
      labels.push(name);
      const centre = centres.get(name)!;
      for (let j = 0; j < dim; j++) features[row * dim + j] = Math.max(0, centre[j]! + 0.6 * gaussian(random));
    }
  }
  return { features, labels, count: labels.length, dim };
}

function concat(...parts: LabeledFeatures[]): LabeledFeatures {
  const dim = parts[0]!.dim;
  const features = new Float32Array(parts.reduce((n, p) => n + p.features.length, 0));
  let offset = 0;
  for (const p of parts) {
    features.set(p.features, offset);
    offset += p.features.length;
  }
  return { features, labels: parts.flatMap((p) => p.labels), count: parts.reduce((n, p) => n + p.count, 0), dim };
}

function pick(data: LabeledFeatures, keep: (label: string, index: number) => boolean): LabeledFeatures {
  const rows = data.labels.flatMap((label, i) => (keep(label, i) ? [i] : []));
  const features = new Float32Array(rows.length * data.dim);
  rows.forEach((r, k) => features.set(data.features.subarray(r * data.dim, (r + 1) * data.dim), k * data.dim));
  return { features, labels: rows.map((r) => data.labels[r]!), count: rows.length, dim: data.dim };
}

const adding = (classNames: readonly string[], added: LabeledFeatures): TrainingDelta => ({ classNames, added, removed: noFeatures(added.dim) });

function argmaxNames(scores: Float32Array, count: number, names: readonly string[]): string[] {
  const C = names.length;
  return Array.from({ length: count }, (_, r) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (scores[r * C + c]! > scores[r * C + best]!) best = c;
    return names[best]!;
  });
}

function maxRelativeDifference(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / (scale || 1);
}

const ABC = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('Cholesky solve', () => {
  it('solves a random SPD system (odd size, several right-hand sides) to rounding error', () => {
    const n = 37, m = 5;
    const random = seededRandom(3);
    const r = Float64Array.from({ length: n * n }, () => random() - 0.5);
    const a = new Float64Array(n * n); // A = RᵀR + I
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < n; k++) s += r[k * n + i]! * r[k * n + j]!;
      a[i * n + j] = s;
    }
    const b = Float64Array.from({ length: n * m }, () => random());
    const l = a.slice();
    choleskyInPlace(l, n);
    const x = b.slice();
    choleskySolveInPlace(l, n, x, m);
    for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * x[k * m + c]!;
      expect(Math.abs(s - b[i * m + c]!)).toBeLessThan(1e-10);
    }
  });

  it('factors and solves D = 1281 with 100 classes to 1e-9 (speed is a benchmark, not a test)', () => {
    const n = 1281, m = 100;
    const random = seededRandom(5);
    const a = new Float64Array(n * n);
    // Diagonally dominant SPD matrix with dense off-diagonal entries.
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = i === j ? n : random() - 0.5;
    const b = Float64Array.from({ length: n * m }, () => random());
    const l = a.slice();
    choleskyInPlace(l, n);
    const x = b.slice();
    choleskySolveInPlace(l, n, x, m);
    let worst = 0;
    for (const i of [0, 640, 1280]) for (const c of [0, 99]) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * x[k * m + c]!;
      worst = Math.max(worst, Math.abs(s - b[i * m + c]!));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('rejects a matrix that is not positive definite', () => {
    const a = Float64Array.from([1, 2, 2, 1]);
    expect(() => choleskyInPlace(a, 2)).toThrow(/positive definite/);
  });

  // The blocked factorization on ONNX Runtime (a real session) against the JS one.
  it('blocked on ONNX Runtime: the same factor to rounding, upper triangle untouched, pivots reported in later blocks', async () => {
    const n = 301, block = 64; // four full blocks and a ragged one
    const random = seededRandom(7);
    const r = Float64Array.from({ length: 2 * n * n }, () => random() - 0.5);
    const a = new Float64Array(n * n); // A = RᵀR + I with R (2n × n): dense and well conditioned
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < 2 * n; k++) s += r[k * n + i]! * r[k * n + j]!;
      a[i * n + j] = s;
      if (j < i) a[j * n + i] = Number.NaN; // only the lower triangle may be read
    }
    const expected = a.slice();
    choleskyInPlace(expected, n);
    const blocked = a.slice();
    await choleskyInPlaceOnnx(blocked, n, block);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < n; i++) scale = Math.max(scale, expected[i * n + i]!);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) worst = Math.max(worst, Math.abs(blocked[i * n + j]! - expected[i * n + j]!) / scale);
      for (let j = i + 1; j < n; j++) expect(blocked[i * n + j]).toBeNaN();
    }
    expect(worst).toBeLessThan(1e-12);

    const broken = a.slice();
    broken[200 * n + 200] = -1; // pivot 200 lies in the fourth block
    await expect(choleskyInPlaceOnnx(broken, n, block)).rejects.toMatchObject({ name: 'NotPositiveDefiniteError', pivot: 200 });

    // The blocked solve for many right-hand sides (the ridge weights) against the JS one, on that factor.
    const m = 7;
    const rhs = Float64Array.from({ length: n * m }, () => random() - 0.5);
    const solvedJs = rhs.slice();
    choleskySolveInPlace(expected, n, solvedJs, m);
    const solvedBlocked = rhs.slice();
    await choleskySolveInPlaceOnnx(blocked, n, solvedBlocked, m, block);
    let worstSolve = 0;
    for (let i = 0; i < n * m; i++) worstSolve = Math.max(worstSolve, Math.abs(solvedBlocked[i]! - solvedJs[i]!) / Math.max(1, Math.abs(solvedJs[i]!)));
    expect(worstSolve).toBeLessThan(1e-10);
    expect(solvedBlocked.some((v, i) => v !== rhs[i])).toBe(true);
  });
});

describe('analytic learner', () => {
  const analytic = getLearner('analytic');
  const core = (state: LearnerState) => (state as ComposedState<AnalyticState>).core;

  it('after several incremental steps equals training on everything at once', async () => {
    const steps = [['a', 'b'], ['c'], ['d', 'e'], ['f']];
    const data = clusters(ABC, 40, 11);
    let state: LearnerState | null = null;
    const seen: string[] = [];
    for (const step of steps) {
      seen.push(...step);
      state = await analytic.update(state, adding([...seen], pick(data, (l) => step.includes(l))));
    }
    // Also split one class's samples across two updates: order of arrival must not matter either.
    const joint = await analytic.update(null, adding(ABC, data));
    expect(core(state!).classNames).toEqual(ABC);
    expect(maxRelativeDifference(core(state!).weights, core(joint).weights)).toBeLessThan(1e-10);
    const probe = clusters(ABC, 10, 99);
    const a = await analytic.predict(state!, probe.features, probe.count);
    const b = await analytic.predict(joint, probe.features, probe.count);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5);
    // And it classifies well-separated clusters.
    const predicted = argmaxNames(a, probe.count, ABC);
    expect(predicted.filter((p, i) => p === probe.labels[i]).length / probe.count).toBeGreaterThan(0.95);
  });

  it('is the ridge solution: gradient of Σ‖x̃ᵀW − y‖² + λ‖W without bias‖² vanishes', async () => {
    const data = clusters(['a', 'b', 'c'], 30, 21);
    const lambda = 0.7;
    const state = core(await analytic.update(null, adding(['a', 'b', 'c'], data), { hyperParameters: { lambda } }));
    const { weights: w, dim } = state;
    const C = 3, d1 = dim + 1;
    const gradient = new Float64Array(d1 * C);
    for (let r = 0; r < data.count; r++) {
      // Independent of the learner's code path: normalize here, build x̃ = [x/‖x‖, 1].
      const x = Array.from(data.features.subarray(r * dim, (r + 1) * dim));
      const norm = Math.hypot(...x);
      const xt = [...x.map((v) => Math.fround(v / norm)), 1];
      for (let c = 0; c < C; c++) {
        let score = 0;
        for (let j = 0; j < d1; j++) score += xt[j]! * w[j * C + c]!;
        const residual = score - (data.labels[r] === ['a', 'b', 'c'][c] ? 1 : 0);
        for (let j = 0; j < d1; j++) gradient[j * C + c]! += xt[j]! * residual;
      }
    }
    for (let j = 0; j < dim; j++) for (let c = 0; c < C; c++) gradient[j * C + c]! += lambda * w[j * C + c]!;
    const worst = gradient.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    expect(worst).toBeLessThan(1e-5); // float32 normalization round-off in x̃; a wrong solve is off by ≫1e-2
    expect(state.lambda).toBe(lambda);
  });

  it('adding then removing the same samples restores the statistics', async () => {
    const base = clusters(['a', 'b', 'c'], 20, 31);
    const extra = clusters(['a', 'c', 'd'], 15, 32);
    const before = core(await analytic.update(null, adding(['a', 'b', 'c'], base)));
    const withExtra = await analytic.update(await analytic.update(null, adding(['a', 'b', 'c'], base)), adding(['a', 'b', 'c', 'd'], extra));
    const after = core(await analytic.update(withExtra, { classNames: ['a', 'b', 'c'], added: noFeatures(DIM), removed: extra }));
    expect(after.counts).toEqual(before.counts);
    expect(after.classNames).toEqual(before.classNames);
    expect(maxRelativeDifference(after.gram, before.gram)).toBeLessThan(1e-12);
    expect(maxRelativeDifference(after.cross, before.cross)).toBeLessThan(1e-12);
    expect(maxRelativeDifference(after.weights, before.weights)).toBeLessThan(1e-9);
  });

  it('removing a class drops its column, never predicts it, and equals never having learned it', async () => {
    const data = clusters(['a', 'b', 'c', 'd'], 25, 41);
    const full = await analytic.update(null, adding(['a', 'b', 'c', 'd'], data));
    const removed = pick(data, (l) => l === 'c');
    const without = await analytic.update(full, { classNames: ['a', 'b', 'd'], added: noFeatures(DIM), removed });
    expect(analytic.classNames(without)).toEqual(['a', 'b', 'd']);
    const probe = clusters(['a', 'b', 'c', 'd'], 10, 42);
    const scores = await analytic.predict(without, probe.features, probe.count);
    expect(scores.length).toBe(probe.count * 3);
    expect(argmaxNames(scores, probe.count, ['a', 'b', 'd'])).not.toContain('c');
    const never = await analytic.update(null, adding(['a', 'b', 'd'], pick(data, (l) => l !== 'c')));
    expect(maxRelativeDifference(core(without).weights, core(never).weights)).toBeLessThan(1e-9);
  });

  it('refuses to drop a class whose samples were not removed, or to remove what it never had', async () => {
    const data = clusters(['a', 'b'], 5, 51);
    const state = await analytic.update(null, adding(['a', 'b'], data));
    await expect(analytic.update(state, { classNames: ['a'], added: noFeatures(DIM), removed: noFeatures(DIM) })).rejects.toThrow(LearnerInputError);
    await expect(analytic.update(state, { classNames: ['a', 'b'], added: noFeatures(DIM), removed: clusters(['z'], 1, 1) })).rejects.toThrow(/never had/);
    await expect(analytic.update(state, adding(['a'], clusters(['b'], 1, 2)))).rejects.toThrow(/not in classNames/);
    await expect(analytic.update(state, adding(['a', 'b'], clusters(['a'], 1, 2, DIM + 1)))).rejects.toThrow(/dimensions/);
    await expect(analytic.update(state, { classNames: ['a', 'b'], added: noFeatures(DIM), removed: clusters(['a'], 6, 51) })).rejects.toThrow(/more samples/);
  });

  it('scores classes without samples −Infinity, and an empty model scores everything −Infinity', async () => {
    const empty = await analytic.update(null, adding(['a', 'b'], noFeatures(DIM)));
    const probe = clusters(['a'], 2, 61);
    expect([...(await analytic.predict(empty, probe.features, 2))]).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]);
    const some = await analytic.update(empty, adding(['a', 'b', 'c'], clusters(['b'], 5, 62)));
    const scores = await analytic.predict(some, probe.features, 2);
    expect(scores[0]).toBe(-Infinity);
    expect(Number.isFinite(scores[1])).toBe(true);
    expect(scores[2]).toBe(-Infinity);
    // Removing everything returns to exact zeros.
    const none = await analytic.update(some, { classNames: ['a'], added: noFeatures(DIM), removed: clusters(['b'], 5, 62) });
    expect(core(none).gram.every((v) => v === 0)).toBe(true);
  });

  it('keeps the caller’s class order', async () => {
    const data = clusters(['a', 'b', 'c'], 10, 71);
    const abc = await analytic.update(null, adding(['a', 'b', 'c'], data));
    const cab = await analytic.update(null, adding(['c', 'a', 'b'], data));
    const probe = clusters(['a', 'b', 'c'], 3, 72);
    const s1 = await analytic.predict(abc, probe.features, probe.count);
    const s2 = await analytic.predict(cab, probe.features, probe.count);
    for (let r = 0; r < probe.count; r++) {
      expect(s2[r * 3 + 0]).toBeCloseTo(s1[r * 3 + 2]!, 5);
      expect(s2[r * 3 + 1]).toBeCloseTo(s1[r * 3 + 0]!, 5);
    }
  });

  it('is invariant to the scale of each feature vector (L2-normalize plugin)', async () => {
    const data = clusters(['a', 'b'], 10, 81);
    const state = await analytic.update(null, adding(['a', 'b'], data));
    const probe = clusters(['a', 'b'], 2, 82);
    const scaled = probe.features.map((v) => v * 7.5);
    const a = await analytic.predict(state, probe.features, probe.count);
    const b = await analytic.predict(state, scaled, probe.count);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
  });

  it('serializes to bytes that restore a state predicting bit-identically and updating identically', async () => {
    const data = clusters(['a', 'b', 'c'], 12, 91);
    const state = await analytic.update(null, adding(['a', 'b', 'c'], data), { hyperParameters: { lambda: 0.3 } });
    const bytes = analytic.serialize(state);
    // Stored BLOBs come back as Buffers at arbitrary offsets: decode from an unaligned copy.
    const stored = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(bytes)]).subarray(3);
    const restored = analytic.deserialize(stored);
    const probe = clusters(['a', 'b', 'c'], 4, 92);
    const a = await analytic.predict(state, probe.features, probe.count);
    const b = await analytic.predict(restored, probe.features, probe.count);
    expect([...b].every((v, i) => Object.is(v, a[i]))).toBe(true);
    const more = clusters(['d'], 6, 93);
    const next1 = core(await analytic.update(state, adding(['a', 'b', 'c', 'd'], more)));
    const next2 = core(await analytic.update(restored, adding(['a', 'b', 'c', 'd'], more)));
    expect(next2.lambda).toBe(0.3); // the previous version's λ carries over
    expect(maxRelativeDifference(next2.weights, next1.weights)).toBe(0);
    expect(() => getLearner('ncm').deserialize(bytes)).toThrow(StateFormatError);
    expect(() => analytic.deserialize(bytes.subarray(0, bytes.length - 1))).toThrow(StateFormatError);
  });

  it('takes λ from the context, rejects unknown hyper-parameters, and honours abort', async () => {
    const data = clusters(['a', 'b'], 10, 101);
    await expect(analytic.update(null, adding(['a', 'b'], data), { hyperParameters: { lamda: 1 } })).rejects.toThrow(/no hyper-parameter "lamda"/);
    await expect(analytic.update(null, adding(['a', 'b'], data), { hyperParameters: { lambda: -1 } })).rejects.toThrow(LearnerInputError);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(analytic.update(null, adding(['a', 'b'], data), { signal: controller.signal })).rejects.toThrow('stop');
    const progress: Array<[number, number]> = [];
    await analytic.update(null, adding(['a', 'b'], data), { onProgress: (done, total) => progress.push([done, total]) });
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]);
  });

  it('never mutates the previous state', async () => {
    const previous = await analytic.update(null, adding(['a', 'b'], clusters(['a', 'b'], 8, 111)));
    const gram = core(previous).gram.slice();
    const weights = core(previous).weights.slice();
    await analytic.update(previous, { classNames: ['b', 'c'], added: clusters(['c'], 3, 112), removed: pick(clusters(['a', 'b'], 8, 111), (l) => l === 'a') });
    expect(core(previous).gram).toEqual(gram);
    expect(core(previous).weights).toEqual(weights);
    expect(core(previous).classNames).toEqual(['a', 'b']);
    expect(Object.isFrozen(previous)).toBe(true);
  });
});

describe('analytic learner: λ chosen by GCV', () => {
  const analytic = getLearner('analytic');
  const core = (state: LearnerState) => (state as ComposedState<AnalyticState>).core;

  it('inverts a triangular factor blocked on ORT: L·X = I', async () => {
    const n = 300;
    const random = seededRandom(5);
    const m = Array.from({ length: n * n }, () => random() - 0.5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += m[i * n + k]! * m[j * n + k]!;
      a[i * n + j] = s;
    }
    choleskyInPlace(a, n);
    const x = await lowerTriangularInverse(a, n, 64); // 5 block rows: 4 of them use the ORT Gemm
    let worst = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (j > i) { expect(x[i * n + j]).toBe(0); continue; }
      let s = 0;
      for (let k = j; k <= i; k++) s += a[i * n + k]! * x[k * n + j]!;
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it('scores each λ as brute-force GCV on the samples does: RSS and tr(H) from the statistics alone', async () => {
    const names = ['a', 'b', 'c'];
    const data = clusters(names, 15, 41);
    const N = data.count, D = DIM, d1 = D + 1, C = names.length;
    // x̃ = [x/‖x‖, 1] and one-hot y, independent of the learner's code.
    const xt = new Float64Array(N * d1);
    for (let r = 0; r < N; r++) {
      const x = data.features.subarray(r * D, (r + 1) * D);
      const norm = Math.hypot(...x);
      for (let j = 0; j < D; j++) xt[r * d1 + j] = Math.fround(x[j]! / norm);
      xt[r * d1 + D] = 1;
    }
    const gram = new Float64Array(d1 * d1);
    const cross = new Float64Array(d1 * C);
    for (let r = 0; r < N; r++) {
      const c = names.indexOf(data.labels[r]!);
      for (let i = 0; i < d1; i++) {
        cross[i * C + c]! += xt[r * d1 + i]!;
        for (let j = 0; j < d1; j++) gram[i * d1 + j]! += xt[r * d1 + i]! * xt[r * d1 + j]!;
      }
    }
    const { lambda, scores } = await selectLambdaGcv(gram, cross, D, C, N);
    expect(scores.map((s) => s.lambda)).toEqual([...LAMBDA_GRID]);
    const brute = scores.map((score) => {
      // H = X̃·A⁻¹·X̃ᵀ, column by column: solve A·v = x̃ᵣ for every sample.
      const a = gram.slice();
      for (let i = 0; i < D; i++) a[i * d1 + i]! += score.lambda;
      choleskyInPlace(a, d1);
      const v = new Float64Array(d1 * N);
      for (let r = 0; r < N; r++) for (let i = 0; i < d1; i++) v[i * N + r] = xt[r * d1 + i]!;
      choleskySolveInPlace(a, d1, v, N);
      let trace = 0;
      let rss = 0;
      for (let r = 0; r < N; r++) {
        const hRow = Array.from({ length: N }, (_, q) => {
          let s = 0;
          for (let i = 0; i < d1; i++) s += xt[r * d1 + i]! * v[i * N + q]!;
          return s;
        });
        trace += hRow[r]!;
        for (let c = 0; c < C; c++) {
          const fitted = hRow.reduce((sum, h, q) => sum + (names.indexOf(data.labels[q]!) === c ? h : 0), 0);
          rss += ((names.indexOf(data.labels[r]!) === c ? 1 : 0) - fitted) ** 2;
        }
      }
      expect(score.dof).toBeCloseTo(trace, 8);
      expect(score.rss).toBeCloseTo(rss, 8);
      return (N * rss) / (N - trace) ** 2;
    });
    // The choice is the brute-force argmin; and it is not an edge of the grid by construction.
    expect(lambda).toBe(LAMBDA_GRID[brute.indexOf(Math.min(...brute))]);
    // tr(H) falls as λ grows, from near the feature count towards 1 (the bias alone).
    for (let i = 1; i < scores.length; i++) expect(scores[i]!.dof).toBeLessThan(scores[i - 1]!.dof);
    expect(scores[0]!.dof).toBeGreaterThan(D / 2);
  });

  it('incremental equals joint: the same λ is chosen and the same weights result', async () => {
    const steps = [['a', 'b'], ['c'], ['d', 'e'], ['f']];
    const data = clusters(ABC, 40, 11);
    let state: LearnerState | null = null;
    const seen: string[] = [];
    for (const [t, step] of steps.entries()) {
      seen.push(...step);
      // Asked once: the selection mode carries over to later versions like λ does.
      state = await analytic.update(state, adding([...seen], pick(data, (l) => step.includes(l))), t === 0 ? { hyperParameters: { lambdaSelection: 'gcv' } } : {});
      expect(core(state).lambdaSelection).toBe('gcv');
    }
    const joint = core(await analytic.update(null, adding(ABC, data), { hyperParameters: { lambdaSelection: 'gcv' } }));
    const incremental = core(state!);
    expect(LAMBDA_GRID).toContain(joint.lambda);
    expect(incremental.lambda).toBe(joint.lambda);
    expect(maxRelativeDifference(incremental.weights, joint.weights)).toBeLessThan(1e-10);
    // And the weights are the fixed-λ solution at the chosen λ.
    const fixed = core(await analytic.update(null, adding(ABC, data), { hyperParameters: { lambda: joint.lambda } }));
    expect(fixed.lambdaSelection).toBe('fixed');
    expect(maxRelativeDifference(fixed.weights, joint.weights)).toBeLessThan(1e-12);
  });

  it('records the selection in the serialized version; old states read as fixed; bad values are refused', async () => {
    const data = clusters(['a', 'b', 'c'], 12, 91);
    const state = await analytic.update(null, adding(['a', 'b', 'c'], data), { hyperParameters: { lambdaSelection: 'gcv' } });
    const restored = core(analytic.deserialize(analytic.serialize(state)));
    expect(restored.lambdaSelection).toBe('gcv');
    expect(restored.lambda).toBe(core(state).lambda);
    // A fixed-λ state is written without the field, as before it existed, and reads back as fixed.
    const fixed = await analytic.update(null, adding(['a', 'b', 'c'], data));
    expect(core(analytic.deserialize(analytic.serialize(fixed))).lambdaSelection).toBe('fixed');
    await expect(analytic.update(null, adding(['a', 'b', 'c'], data), { hyperParameters: { lambdaSelection: 'loo' } })).rejects.toThrow(/lambdaSelection must be one of/);
  });
});

describe('nearest class mean learner', () => {
  const ncm = getLearner('ncm');
  const core = (state: LearnerState) => (state as ComposedState<NcmState>).core;

  it('scores the cosine to each class mean of normalized features, equal incrementally and jointly', async () => {
    const data = clusters(['a', 'b', 'c'], 15, 121);
    const step1 = await ncm.update(null, adding(['a', 'b'], pick(data, (l) => l !== 'c')));
    const step2 = await ncm.update(step1, adding(['a', 'b', 'c'], pick(data, (l) => l === 'c')));
    const joint = await ncm.update(null, adding(['a', 'b', 'c'], data));
    expect(maxRelativeDifference(core(step2).sums, core(joint).sums)).toBeLessThan(1e-12);
    const probe = clusters(['a', 'b', 'c'], 3, 122);
    const scores = await ncm.predict(step2, probe.features, probe.count);
    // Reference: mean of normalized training features, cosine to the raw probe.
    for (const [c, name] of ['a', 'b', 'c'].entries()) {
      const members = pick(data, (l) => l === name);
      const mean = new Array<number>(DIM).fill(0);
      for (let r = 0; r < members.count; r++) {
        const x = members.features.subarray(r * DIM, (r + 1) * DIM);
        const norm = Math.hypot(...x);
        x.forEach((v, j) => (mean[j]! += v / norm));
      }
      for (let r = 0; r < probe.count; r++) {
        const x = probe.features.subarray(r * DIM, (r + 1) * DIM);
        const cosine = x.reduce((s, v, j) => s + v * mean[j]!, 0) / (Math.hypot(...x) * Math.hypot(...mean));
        expect(scores[r * 3 + c]).toBeCloseTo(cosine, 5);
      }
    }
  });

  it('adds and removes exactly, drops removed classes, and scores empty classes −Infinity', async () => {
    const base = clusters(['a', 'b'], 10, 131);
    const extra = clusters(['b', 'c'], 4, 132);
    const before = await ncm.update(null, adding(['a', 'b', 'x'], base));
    const added = await ncm.update(before, adding(['a', 'b', 'x', 'c'], extra));
    const back = await ncm.update(added, { classNames: ['a', 'b', 'x'], added: noFeatures(DIM), removed: extra });
    expect(core(back).counts).toEqual(core(before).counts);
    expect(maxRelativeDifference(core(back).sums, core(before).sums)).toBeLessThan(1e-12);
    const probe = clusters(['a'], 1, 133);
    const scores = await ncm.predict(back, probe.features, 1);
    expect(scores[2]).toBe(-Infinity);
    expect(argmaxNames(scores, 1, ncm.classNames(back))).toEqual(['a']);
    const restored = ncm.deserialize(ncm.serialize(back));
    expect([...(await ncm.predict(restored, probe.features, 1))].every((v, i) => Object.is(v, scores[i]))).toBe(true);
  });
});

describe('learner registry and plugins', () => {
  it('lists the learners and refuses unknown ids', () => {
    expect([...learnerIds]).toEqual(['analytic', 'ncm', 'replay', 'finetune']);
    expect(getLearner('analytic').id).toBe('analytic');
    expect(getLearner('replay').id).toBe('replay');
    expect(getLearner('finetune').trainsBackboneTop).toBe(true);
    expect(() => getLearner('lwf')).toThrow(/unknown learner/);
  });

  it('normalizes handed-over training rows in place, with the same model, and never touches rows it was only lent', async () => {
    const learner = getLearner('analytic');
    const rows = () => Float32Array.from({ length: 6 * 4 }, (_, i) => ((i * 7919) % 13) - 4);
    const delta = (features: Float32Array, handedOver: boolean): TrainingDelta => ({
      classNames: ['a', 'b'],
      added: { features, labels: ['a', 'b', 'a', 'b', 'a', 'b'], count: 6, dim: 4, handedOver },
      removed: noFeatures(4),
    });
    const lent = rows();
    const kept = await learner.update(null, delta(lent, false));
    expect(lent).toEqual(rows());
    const given = rows();
    const inPlace = await learner.update(null, delta(given, true));
    expect(given).not.toEqual(rows());
    expect(Math.hypot(...given.subarray(0, 4))).toBeCloseTo(1, 6);
    expect(learner.serialize(inPlace)).toEqual(learner.serialize(kept));
  });

  it('runs plugin hooks at their points, keeps plugin state with the model, and round-trips it', async () => {
    const calls: string[] = [];
    // A plugin with state: counts updates, duplicates every added sample (a stand-in for replay
    // adding exemplars), and adds its counter to every score (a stand-in for bias correction).
    const counter: LearnerPlugin<number> = {
      id: 'counter',
      beforeUpdate(delta, event) {
        calls.push(`before:${event.pluginState ?? 'none'}`);
        return { ...delta, added: concat(delta.added, delta.added) };
      },
      afterUpdate(event) {
        calls.push(`after:${event.next.classNames.join('')}`);
        return (event.pluginState ?? 0) + 1;
      },
      adaptScores(scores, _count, _names, state) {
        calls.push('scores');
        return scores.map((s) => s + (state ?? 0));
      },
      encodeState: (n) => new Uint8Array([n]),
      decodeState: (bytes) => bytes[0]!,
    };
    const learner = withPlugins('test', nearestClassMean, [l2Normalize, counter]);
    const s1 = await learner.update(null, adding(['a'], clusters(['a'], 3, 141)));
    const s2 = await learner.update(s1, adding(['a', 'b'], clusters(['b'], 2, 142)));
    expect(calls).toEqual(['before:none', 'after:a', 'before:1', 'after:ab']);
    expect(s2.pluginStates).toEqual([undefined, 2]);
    expect(s2.core.counts).toEqual([6, 4]); // the delta the core saw is the plugin's
    const probe = clusters(['a'], 1, 143);
    const plain = await nearestClassMean.predict(s2.core, l2Normalize.adaptFeatures!(probe.features, 1, DIM).features, 1);
    const composed = await learner.predict(s2, probe.features, 1);
    expect(composed[0]).toBeCloseTo(plain[0]! + 2, 6);
    const restored = learner.deserialize(learner.serialize(s2));
    expect(restored.pluginStates).toEqual([undefined, 2]);
    expect(() => withPlugins('test', nearestClassMean, [counter]).deserialize(learner.serialize(s2))).toThrow(/different plugins/);
    await expect(analyticRidge.predict(s2.core as unknown as AnalyticState, probe.features, 1)).rejects.toThrow(LearnerInputError);
  });

  it('refuses a plugin that changes the class list', async () => {
    const meddler: LearnerPlugin = { id: 'meddler', beforeUpdate: (delta) => ({ ...delta, classNames: [...delta.classNames, 'extra'] }) };
    const learner = withPlugins('meddled', nearestClassMean, [meddler]);
    await expect(learner.update(null, adding(['a'], clusters(['a'], 1, 151)))).rejects.toThrow(/class list/);
  });
});
