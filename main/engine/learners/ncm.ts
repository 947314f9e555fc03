// Nearest-class-mean learner, the baseline: per-class sums of (L2-normalized) features and
// counts, exact to add to and subtract from; a sample scores its cosine similarity to each
// class mean.
//
// Cosine vs negative squared distance to the (unnormalized) mean of normalized features,
// measured on MobileNetV2 features (test top-1 %): Caltech-101 87.7 vs 87.5, CIFAR-10 61.7 vs
// 61.8: a wash, so cosine, whose scores lie in [−1, 1] and don't depend on how spread a class is.

import { affineRows, l2NormalizeRows } from '../onnx/row-ops.js';
import { checkpoint } from './progress.js';
import { bytesToFloat64, decodeContainer, encodeContainer, float64ToBytes, headerField, isFiniteNumber, isString, isStringArray, StateFormatError } from './codec.js';
import { checkCounts, labelColumns, planColumns, remapColumns, validateDelta } from './delta.js';
import { resolveHyperParameters } from './hyper-parameters.js';
import { LearnerInputError, type Learner, type LearnerState } from './learner.js';

export const NCM_CORE_ID = 'nearest-class-mean';

export interface NcmState extends LearnerState {
  readonly learnerId: typeof NCM_CORE_ID;
  readonly dim: number;
  readonly counts: readonly number[];
  /** D×C row-major: column c is the sum of class c's features. */
  readonly sums: Float64Array;
}

const SAMPLES_PER_CHUNK = 2048;

export const nearestClassMean: Learner<NcmState> = {
  id: NCM_CORE_ID,
  defaultHyperParameters: {},

  async update(previous, delta, context = {}) {
    if (previous) assertNcmState(previous);
    const dim = validateDelta(delta, previous?.dim ?? null);
    resolveHyperParameters(NCM_CORE_ID, {}, null, context.hyperParameters); // rejects stray keys
    const plan = planColumns(previous?.classNames ?? [], delta.classNames);
    const C = plan.working.length;
    const sums = previous ? remapColumns(previous.sums, dim, previous.classNames, plan.working) : new Float64Array(dim * C);
    const previousCounts = new Map<string, number>(previous ? previous.classNames.map((name, i) => [name, previous.counts[i]!]) : []);
    const counts = plan.working.map((name) => previousCounts.get(name) ?? 0);

    const work = delta.added.count + delta.removed.count;
    let done = 0;
    for (const [part, sign] of [[delta.added, 1], [delta.removed, -1]] as const) {
      const columns = labelColumns(part.labels, plan, sign > 0 ? 'added' : 'removed');
      for (let start = 0; start < part.count; start += SAMPLES_PER_CHUNK) {
        await checkpoint(context, done, work);
        const end = Math.min(part.count, start + SAMPLES_PER_CHUNK);
        for (let s = start; s < end; s++) {
          const c = columns[s]!;
          const row = s * dim;
          for (let j = 0; j < dim; j++) sums[j * C + c]! += sign * part.features[row + j]!;
          counts[c]! += sign;
        }
        done += end - start;
      }
    }
    checkCounts(plan.working, counts, plan.keep);
    const classNames = [...delta.classNames];
    const keptCounts = counts.slice(0, plan.keep);
    const keptSums = remapColumns(sums, dim, plan.working, classNames);
    // A class emptied by removals restarts from exact zeros, not subtraction rounding.
    keptCounts.forEach((n, c) => {
      if (n === 0) for (let j = 0; j < dim; j++) keptSums[j * classNames.length + c] = 0;
    });
    context.onProgress?.(work, work);
    return Object.freeze({
      learnerId: NCM_CORE_ID, classNames: Object.freeze(classNames), dim, counts: Object.freeze(keptCounts), sums: keptSums,
    });
  },

  async predict(state, features, count) {
    assertNcmState(state);
    const { dim, sums, counts } = state;
    if (features.length !== count * dim) throw new LearnerInputError(`expected ${count}×${dim} features, got ${features.length} floats`);
    const C = counts.length;
    const norms = new Float64Array(C);
    for (let j = 0; j < dim; j++) for (let c = 0; c < C; c++) norms[c]! += sums[j * C + c]! ** 2;
    for (let c = 0; c < C; c++) norms[c] = Math.sqrt(norms[c]!);
    const out = new Float32Array(count * C);
    const dots = new Float64Array(C);
    for (let r = 0; r < count; r++) {
      dots.fill(0);
      let squared = 0;
      for (let j = 0; j < dim; j++) {
        const x = features[r * dim + j]!;
        if (x === 0) continue;
        squared += x * x;
        for (let c = 0; c < C; c++) dots[c]! += x * sums[j * C + c]!;
      }
      const xNorm = Math.sqrt(squared);
      for (let c = 0; c < C; c++) {
        const denominator = xNorm * norms[c]!;
        out[r * C + c] = counts[c]! === 0 ? -Infinity : denominator > 0 ? dots[c]! / denominator : 0;
      }
    }
    return out;
  },
  exportScores(state, graph, features, dim) {
    assertNcmState(state);
    if (dim !== state.dim) throw new LearnerInputError(`expected ${state.dim}-wide features, got ${dim}`);
    const C = state.counts.length;
    // cos(x, s_c) = (x/‖x‖)·(s_c/‖s_c‖): normalize the rows, multiply by unit class means.
    const norms = new Float64Array(C);
    for (let j = 0; j < dim; j++) for (let c = 0; c < C; c++) norms[c]! += state.sums[j * C + c]! ** 2;
    const means = new Float32Array(dim * C);
    for (let j = 0; j < dim; j++) {
      for (let c = 0; c < C; c++) if (norms[c]! > 0) means[j * C + c] = state.sums[j * C + c]! / Math.sqrt(norms[c]!);
    }
    const bias = Float32Array.from(state.counts, (n) => (n === 0 ? -Infinity : 0));
    return affineRows(graph, l2NormalizeRows(graph, features), means, bias, 'cosine_scores');
  },


  classNames: (state) => state.classNames,

  serialize(state) {
    assertNcmState(state);
    const header = { learnerId: state.learnerId, format: 1, classNames: state.classNames, counts: state.counts, dim: state.dim };
    return encodeContainer(header, [float64ToBytes(state.sums)]);
  },

  deserialize(bytes) {
    const { header, sections } = decodeContainer(bytes);
    if (headerField(header, 'learnerId', isString) !== NCM_CORE_ID) throw new StateFormatError('not a nearest-class-mean state');
    if (headerField(header, 'format', isFiniteNumber) !== 1) throw new StateFormatError('unknown nearest-class-mean state format');
    const classNames = headerField(header, 'classNames', isStringArray);
    const counts = headerField(header, 'counts', (v): v is number[] => Array.isArray(v) && v.every(isFiniteNumber));
    const dim = headerField(header, 'dim', isFiniteNumber);
    const [sumSection] = sections;
    if (sections.length !== 1 || !sumSection || counts.length !== classNames.length) throw new StateFormatError('nearest-class-mean state has the wrong sections');
    return Object.freeze({
      learnerId: NCM_CORE_ID, classNames: Object.freeze(classNames), dim, counts: Object.freeze(counts),
      sums: bytesToFloat64(sumSection, dim * classNames.length),
    });
  },
};

function assertNcmState(state: LearnerState): asserts state is NcmState {
  if (state.learnerId !== NCM_CORE_ID) throw new LearnerInputError(`state of "${state.learnerId}" given to ${NCM_CORE_ID}`);
}
