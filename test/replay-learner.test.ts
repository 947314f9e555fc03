// The replay learner on real backbone features of shared Caltech photos: imprinting, buffer
// budgets and selection, exact rollback, removal, distillation, determinism, and the trainer
// taken from the update context.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  getLearner, LearnerInputError, noFeatures, type ComposedState, type HyperParameters, type LabeledFeatures, type Learner, type ReplayState,
} from '../main/engine/learners/index.js';
import { l2Normalize } from '../main/engine/learners/plugins/l2-normalize.js';
import { bufferBytes, perClassLimit } from '../main/engine/learners/replay/buffer.js';
import { herdingSelection } from '../main/engine/learners/replay/herding.js';
import { REPLAY_DEFAULTS } from '../main/engine/learners/replay/hyper-parameters.js';
import { seededRandom } from '../main/engine/learners/seeded-random.js';
import type { HeadTrainer, TrainRequest } from '../main/engine/training/head-trainer.js';
import { TypeScriptTrainer } from '../main/engine/training/typescript-trainer.js';
import { labelTargets } from '../main/engine/learners/plugins/distillation.js';
import { embedCaltech, pick, rowsOf, type EmbeddedPhotos } from './support/embeddings.js';
import { drawCaltechLines } from './support/drawings.js';
import { tempDir } from './support/project.js';

const FIRST = ['Leopards', 'airplanes', 'bonsai'];
const SECOND = ['ketch', 'accordion', 'anchor'];
const ALL = [...FIRST, ...SECOND];
/** Small and quick, still a real training run. */
const QUICK: HyperParameters = { epochs: 8, batchSize: 32 };

let train: EmbeddedPhotos;
let test: EmbeddedPhotos;
const replay = getLearner('replay') as Learner<ComposedState<ReplayState>>;

beforeAll(async () => {
  train = await embedCaltech(ALL, 12, 'train');
  test = await embedCaltech(ALL, 8, 'test');
});

const core = (state: ComposedState<ReplayState>): ReplayState => state.core;

async function accuracy(learner: Learner<any>, state: unknown, data: LabeledFeatures): Promise<number> {
  const scores = await learner.predict(state, data.features, data.count);
  const names = learner.classNames(state);
  let right = 0;
  for (let r = 0; r < data.count; r++) {
    let best = 0;
    for (let c = 1; c < names.length; c++) if (scores[r * names.length + c]! > scores[r * names.length + best]!) best = c;
    if (names[best] === data.labels[r]) right++;
  }
  return right / data.count;
}

function argmaxes(scores: Float32Array, count: number, classes: number): number[] {
  return Array.from({ length: count }, (_, r) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[r * classes + c]! > scores[r * classes + best]!) best = c;
    return best;
  });
}

async function twoSteps(hyperParameters: HyperParameters, context: { trainer?: HeadTrainer } = {}) {
  const first = await replay.update(null, { classNames: FIRST, added: pick(train, FIRST), removed: noFeatures(train.dim) }, { hyperParameters, ...context });
  const second = await replay.update(first, { classNames: ALL, added: pick(train, SECOND), removed: noFeatures(train.dim) }, { hyperParameters, ...context });
  return { first, second };
}

/** Line drawings of photos, as a new look of known classes. */
async function lineDrawings(classes: readonly string[], perClass: number, split: 'train' | 'test'): Promise<EmbeddedPhotos> {
  const root = tempDir();
  for (const className of classes) await drawCaltechLines(className, split, [0, perClass], path.join(root, split, className));
  return embedCaltech(classes, perClass, split, root);
}

describe('replay learner', () => {
  it('distillation never holds a prediction that a label contradicts', () => {
    // Three old classes, 0 and 1 with new samples; rows labelled 0, 1 (the teacher says 2),
    // 2 (the teacher says 0, but class 2 got no new samples: plain distillation), 3 (a new class).
    const logits = Float32Array.from([5, 1, 0, /**/ 0, 1, 4, /**/ 3, 2, 1, /**/ 3, 2, 1]);
    const changed = labelTargets(logits, { labels: Int32Array.from([0, 1, 2, 3]), count: 4 }, 3, 2, new Set([0, 1]));
    expect(changed).toBe(2);
    expect([...logits]).toEqual([20, 0, 0, /**/ 0, 20, 0, /**/ 3, 2, 1, /**/ 3, 2, 1]);
  });

  it('learns a new look of known classes (line drawings after photos) where plain distillation holds the old predictions', async () => {
    const drawingsTrain = await lineDrawings(FIRST, 12, 'train');
    const drawingsTest = await lineDrawings(FIRST, 8, 'test');
    const photos = pick(train, FIRST);
    const run = async (hyperParameters: HyperParameters) => {
      const first = await replay.update(null, { classNames: FIRST, added: photos, removed: noFeatures(train.dim) }, { hyperParameters });
      const second = await replay.update(first, { classNames: FIRST, added: drawingsTrain, removed: noFeatures(train.dim) }, { hyperParameters });
      return { before: await accuracy(replay, first, drawingsTest), drawings: await accuracy(replay, second, drawingsTest), photos: await accuracy(replay, second, pick(test, FIRST)) };
    };
    const corrected = await run({});
    const pinned = await run({ labelsOverrideDistillation: false });
    expect(corrected.drawings).toBeGreaterThan(corrected.before);
    expect(corrected.drawings).toBeGreaterThan(pinned.drawings);
    expect(corrected.photos).toBeGreaterThanOrEqual((await accuracy(replay, await replay.update(null, { classNames: FIRST, added: photos, removed: noFeatures(train.dim) }), pick(test, FIRST))) - 0.05);
  });

  it('is registered, and imprinting alone (no training step) predicts as nearest class mean does', async () => {
    const ncm = getLearner('ncm');
    const { second } = await twoSteps({ epochs: 0 });
    let ncmState = await ncm.update(null, { classNames: FIRST, added: pick(train, FIRST), removed: noFeatures(train.dim) });
    ncmState = await ncm.update(ncmState, { classNames: ALL, added: pick(train, SECOND), removed: noFeatures(train.dim) });
    const C = ALL.length;
    expect(argmaxes(await replay.predict(second, test.features, test.count), test.count, C)).toEqual(
      argmaxes(await ncm.predict(ncmState, test.features, test.count), test.count, C),
    );
    expect(await accuracy(replay, second, test)).toBeGreaterThan(0.8);
  });

  it('trains to high accuracy on old and new classes with the default recipe', async () => {
    const { second } = await twoSteps({});
    expect(await accuracy(replay, second, pick(test, FIRST))).toBeGreaterThan(0.85);
    expect(await accuracy(replay, second, pick(test, SECOND))).toBeGreaterThan(0.85);
  });

  it('keeps at most bufferPerClass exemplars per class, and fits a megabyte budget that shrinks each class’s share', async () => {
    const { second } = await twoSteps({ ...QUICK, bufferPerClass: 5 });
    const perClass = (state: ReplayState) => ALL.map((name) => state.buffer.labels.filter((label) => label === name).length);
    expect(perClass(core(second))).toEqual([5, 5, 5, 5, 5, 5]);
    expect(replay.bufferedSamples!(second).map((s) => s.key).every((key) => train.keys.includes(key))).toBe(true);
    expect(new Set(replay.bufferedSamples!(second).map((s) => s.key)).size).toBe(30);

    const megabytes = 0.25; // (250 000 − C·10 248 bytes of statistics) / (C·5 120 bytes per exemplar) per class
    const { first: small, second: large } = await twoSteps({ ...QUICK, bufferMegabytes: megabytes });
    expect(perClass(core(small)).slice(0, 3)).toEqual([12, 12, 12]); // 3 classes: 14 fit, only 12 samples each
    expect(perClass(core(large))).toEqual([6, 6, 6, 6, 6, 6]);
    expect(perClassLimit({ ...REPLAY_DEFAULTS, bufferMegabytes: megabytes }, 6, train.dim)).toBe(6);
    expect(bufferBytes(core(large).buffer, 6)).toBeLessThanOrEqual(megabytes * 1e6);
  });

  it('herding picks exemplars whose mean is closer to the class mean than random picks of the same size', () => {
    const airplanes = l2Normalize.adaptFeatures!(pick(train, ['airplanes']).features, 12, train.dim).features;
    const mean = new Float64Array(train.dim);
    for (let i = 0; i < 12; i++) for (let j = 0; j < train.dim; j++) mean[j]! += airplanes[i * train.dim + j]! / 12;
    const distance = (rows: readonly number[]) => {
      let sum = 0;
      for (let j = 0; j < train.dim; j++) {
        let m = 0;
        for (const r of rows) m += airplanes[r * train.dim + j]! / rows.length;
        sum += (m - mean[j]!) ** 2;
      }
      return sum;
    };
    const picks = herdingSelection(airplanes, 12, train.dim, mean, 4);
    expect(new Set(picks).size).toBe(4);
    const nearest = [...Array(12).keys()].sort((a, b) => distance([a]) - distance([b]))[0];
    expect(picks[0]).toBe(nearest);
    const random = seededRandom(7);
    const randomDistances = Array.from({ length: 200 }, () => {
      const order = [...Array(12).keys()].sort(() => random() - 0.5);
      return distance(order.slice(0, 4));
    }).sort((a, b) => a - b);
    expect(distance(picks)).toBeLessThan(randomDistances[10]!); // better than 95 % of random picks
  });

  it('serializes to bytes that predict bit-identically and continue training identically (rollback is exact)', async () => {
    const first = await replay.update(null, { classNames: FIRST, added: pick(train, FIRST), removed: noFeatures(train.dim) }, { hyperParameters: { ...QUICK, optimizer: 'adam', learningRate: 0.01, distillationWeight: 1 } });
    const restored = replay.deserialize(replay.serialize(first));
    expect(await replay.predict(restored, test.features, test.count)).toEqual(await replay.predict(first, test.features, test.count));
    const delta = { classNames: ALL, added: pick(train, SECOND), removed: noFeatures(train.dim) };
    const fromOriginal = await replay.update(first, delta);
    const fromRestored = await replay.update(restored, delta);
    expect(replay.serialize(fromRestored)).toEqual(replay.serialize(fromOriginal));
    expect(core(fromOriginal).optimizer.step).toBeGreaterThan(core(first).optimizer.step); // moments carried on
    expect(core(fromOriginal).hyperParameters.optimizer).toBe('adam'); // the recipe is carried with the version
  });

  it('is deterministic: the same previous state and delta give the same bytes', async () => {
    const a = await twoSteps({ ...QUICK, bufferSelection: 'reservoir', translatedPerClass: 10 });
    const b = await twoSteps({ ...QUICK, bufferSelection: 'reservoir', translatedPerClass: 10 });
    expect(replay.serialize(a.second)).toEqual(replay.serialize(b.second));
  });

  it('removing a sample drops it from the buffer; removing a class drops its row, exemplars and statistics', async () => {
    const { second } = await twoSteps({ ...QUICK, bufferPerClass: 3 });
    const kept = replay.bufferedSamples!(second);
    const victim = kept.find((s) => s.className === 'ketch')!;
    const victimRow = train.keys.indexOf(victim.key);
    const afterSample = await replay.update(second, { classNames: ALL, added: noFeatures(train.dim), removed: rowsOf(train, [victimRow]) });
    expect(replay.bufferedSamples!(afterSample).map((s) => s.key)).not.toContain(victim.key);
    expect(core(afterSample).statistics.counts[ALL.indexOf('ketch')]).toBe(11);

    const remaining = ALL.filter((name) => name !== 'bonsai');
    const bonsai = pick(train, ['bonsai']);
    const afterClass = await replay.update(second, { classNames: remaining, added: noFeatures(train.dim), removed: bonsai });
    expect(replay.classNames(afterClass)).toEqual(remaining);
    expect(core(afterClass).buffer.labels).not.toContain('bonsai');
    expect(core(afterClass).parameters[0]!.length).toBe(remaining.length * train.dim);
    expect((await replay.predict(afterClass, test.features, test.count)).length).toBe(test.count * remaining.length);
    // The other classes' rows are the ones they had.
    const before = core(second).parameters[0]!;
    const leopards = ALL.indexOf('Leopards');
    expect(core(afterClass).parameters[0]!.subarray(0, train.dim)).toEqual(before.subarray(leopards * train.dim, (leopards + 1) * train.dim));
  });

  // Distillation matches softmax outputs, which ignore a common shift of the logits: compare
  // old-class logits centred per sample.
  it('distillation keeps old-class logits closer to the previous version’s than training without it', async () => {
    const recipe = { epochs: 20, batchSize: 32, bufferPerClass: 2, translatedPerClass: 0, classBalanced: false };
    const drift = async (distillationWeight: number) => {
      const { first, second } = await twoSteps({ ...recipe, distillationWeight });
      const before = await replay.predict(first, test.features, test.count);
      const after = await replay.predict(second, test.features, test.count);
      const K = FIRST.length;
      let sum = 0;
      for (let r = 0; r < test.count; r++) {
        let shift = 0;
        for (let c = 0; c < K; c++) shift += (after[r * ALL.length + c]! - before[r * K + c]!) / K;
        for (let c = 0; c < K; c++) sum += (after[r * ALL.length + c]! - before[r * K + c]! - shift) ** 2;
      }
      return sum / (test.count * K);
    };
    const without = await drift(0);
    const withDistillation = await drift(5);
    expect(withDistillation).toBeLessThan(without * 0.8);
  });

  it('uses the trainer from the update context, with the same result as its own', async () => {
    const requests: TrainRequest[] = [];
    const reference = new TypeScriptTrainer();
    const recording: HeadTrainer = {
      device: 'recording',
      train: (request, signal) => {
        requests.push(request);
        return reference.train(request, signal);
      },
      close: async () => {},
    };
    const viaContext = await twoSteps({ ...QUICK, biasCorrection: 'balanced-finetune' }, { trainer: recording });
    const own = await twoSteps({ ...QUICK, biasCorrection: 'balanced-finetune' });
    expect(requests.length).toBe(3); // first version; second version's main pass and fine-tuning pass
    expect(requests[1]!.architecture).toEqual({ inputDim: train.dim, hiddenDim: 0, classCount: 6 });
    // Distillation (on by default) holds old logits in the fine-tuning pass as in the main pass.
    expect(requests[1]!.loss.distillation?.classCount).toBe(FIRST.length);
    expect(requests[2]!.loss).toEqual(requests[1]!.loss);
    expect(requests[2]!.samples.teacherLogits?.length).toBe(requests[2]!.samples.count * FIRST.length);
    expect(replay.serialize(viaContext.second)).toEqual(replay.serialize(own.second));
  });

  it('trains a hidden-layer head, applies weight aligning, and rejects unknown or ill-typed hyper-parameters', async () => {
    const { second } = await twoSteps({ ...QUICK, hiddenUnits: 32, biasCorrection: 'weight-aligning' });
    expect(core(second).parameters.map((p) => p.length)).toEqual([32 * train.dim, 32, 6 * 32, 6]);
    // Weight aligning leaves new output rows as long as old ones, on average.
    const meanNorm = (classes: number[]) => classes.reduce((sum, c) => sum + Math.hypot(...core(second).parameters[2]!.subarray(c * 32, (c + 1) * 32)), 0) / classes.length;
    expect(meanNorm([3, 4, 5])).toBeCloseTo(meanNorm([0, 1, 2]), 4);
    expect(await accuracy(replay, second, test)).toBeGreaterThan(0.7);
    const delta = { classNames: FIRST, added: pick(train, FIRST), removed: noFeatures(train.dim) };
    await expect(replay.update(null, delta, { hyperParameters: { bufferSize: 3 } })).rejects.toThrow(LearnerInputError);
    await expect(replay.update(null, delta, { hyperParameters: { bufferSelection: 'random' } })).rejects.toThrow(/bufferSelection/);
    await expect(replay.update(second, { ...delta, classNames: ALL, added: noFeatures(train.dim) }, { hyperParameters: { hiddenUnits: 0 } })).rejects.toThrow(/hiddenUnits/);
  });
});
