// The finetune learner: trains the backbone's top layers (after the cut: MobileNetV2's last
// inverted-residual block and last 1×1 conv) together with a linear head, on cached cut
// activations, and keeps old classes and old looks by latent replay. Its input rows are cut
// activations (ResolvedBackbone.fineTuning), never images: nothing is decoded again to train.
//
// One update, in phases:
//   1. buffer  — the latent buffer drops removed samples and takes the new ones (byte budget);
//   2. probe   — a ridge head on the current top's features of this update's rows (LP-FT: starting
//                the fine-tuning from a fitted head keeps the first steps from wrecking the features);
//   3. tune    — Adam over the new rows mixed with replayed old ones (replayRatio × new), epochs;
//   4. refit   — the exact ridge head (as analytic) on the tuned top's features of the whole buffer.
// The version stores its top's weights, its head and its buffer, so rollback is exact.
import { l2Normalize } from '../plugins/l2-normalize.js';
import { l2NormalizeRows } from '../../onnx/row-ops.js';
import { analyticRidge, type AnalyticState } from '../analytic.js';
import { resolveHyperParameters } from '../hyper-parameters.js';
import { LearnerInputError, noFeatures, type Learner, type LearnerState } from '../learner.js';
import { openSession } from '../../runtime/devices.js';
import { versionSeed } from '../seeded-random.js';
import { decodeEntries, entryId, nextBuffer, removalKeys, replaySample, toEntries, type LatentEntry } from './latent-buffer.js';
import { decodeFinetuneState, encodeFinetuneState } from './state-codec.js';
import { FINETUNE_DEFAULT_BUFFER_MEGABYTES, FINETUNE_DEFAULTS, FINETUNE_ID, type FinetuneHyperParameters, type FinetuneState, type FinetuneTraining } from './state.js';
import { topFeatures, type SessionOpener } from './top-features.js';
import { addTopForward, parseBackboneTop, withParameters } from './top-network.js';
import { trainTop } from './top-training.js';

/** Rows decoded and scored at once while refitting (bounds memory to a few MB). */
const REFIT_CHUNK = 256;

export const finetuneLearner: Learner<FinetuneState> = {
  id: FINETUNE_ID,
  trainsBackboneTop: true,
  defaultHyperParameters: FINETUNE_DEFAULTS,

  async update(previous, delta, context = {}) {
    if (previous) assertFinetuneState(previous);
    const h = resolveHyperParameters<FinetuneHyperParameters>(FINETUNE_ID, FINETUNE_DEFAULTS, previous?.hyperParameters ?? null, context.hyperParameters);
    checkHyperParameters(h);
    let top = previous?.top ?? (context.backboneTop ? parseBackboneTop(context.backboneTop) : undefined);
    if (!top) throw new LearnerInputError('the finetune learner needs the backbone split at its cut (this backbone has none)');
    const [c, hh, w] = top.cutShape;
    const dim = c * hh * w;
    for (const part of [delta.added, delta.removed]) {
      if (part.count > 0 && part.dim !== dim) throw new LearnerInputError(`expected ${dim}-wide cut activations, got ${part.dim}`);
    }
    const classNames = [...delta.classNames];
    const classIndex = new Map(classNames.map((name, i) => [name, i]));
    for (const label of delta.added.labels) if (!classIndex.has(label)) throw new LearnerInputError(`sample labeled "${label}" is not in classNames`);
    const open: SessionOpener = context.openGraph ?? (async (model) => (await openSession(model, 'cpu')).session);
    const updates = (previous?.updates ?? 0) + 1;
    const seed = versionSeed(h.seed, updates);

    // 1. buffer
    const added = toEntries(delta.added, top.cutShape);
    const removed = removalKeys(delta.removed, top.cutShape);
    const budget = (h.bufferMegabytes > 0 ? h.bufferMegabytes : FINETUNE_DEFAULT_BUFFER_MEGABYTES) * 1e6;
    const buffer = nextBuffer(previous?.buffer ?? [], removed, added, classNames, budget);

    // 2.–3. probe and tune, on the new rows plus replayed old ones
    const addedIds = new Set(added.map((entry) => entryId(entry.key, entry.className)));
    const old = buffer.filter((entry) => !addedIds.has(entryId(entry.key, entry.className)));
    const tuneRows = added.length > 0 && h.epochs > 0 && classNames.length >= 2 ? [...added, ...replaySample(old, added.length, h.replayRatio, seed)] : [];
    const stepsPlanned = Math.ceil(tuneRows.length / h.batchSize) * h.epochs;
    const refitUnits = Math.ceil(buffer.length / REFIT_CHUNK);
    const progress = (done: number) => context.onProgress?.(done, stepsPlanned + refitUnits + 1);
    progress(0);
    let training: FinetuneTraining = { rows: 0, steps: 0, firstEpochLoss: null, lastEpochLoss: null };
    if (tuneRows.length > 0) {
      const rows = decodeEntries(tuneRows, dim);
      const labels = Int32Array.from(tuneRows, (entry) => classIndex.get(entry.className)!);
      const before = await topFeatures(top, rows, tuneRows.length, open);
      const probe = await fitHead(before, tuneRows.map((entry) => entry.className), classNames, top.featureDim, h.lambda);
      const { weights, bias } = headMatrices(probe, top.featureDim, classNames.length);
      const previousUnitFeatures = l2Normalize.adaptFeatures!(before, tuneRows.length, top.featureDim).features;
      const distilled = Uint8Array.from(tuneRows, (_, r) => (r >= added.length && previous ? 1 : 0));
      context.signal?.throwIfAborted();
      const result = await trainTop({
        top, headWeights: weights, headBias: bias, rows, labels, classCount: classNames.length,
        previousUnitFeatures, distilled, distillationWeight: h.featureDistillation,
        epochs: h.epochs, batchSize: h.batchSize, learningRate: h.learningRate, logitScale: h.logitScale, seed, open,
        signal: context.signal, onStep: (done) => progress(done),
      });
      top = withParameters(top, result.topParameters);
      training = { rows: tuneRows.length, steps: result.steps, firstEpochLoss: result.firstEpochLoss, lastEpochLoss: result.lastEpochLoss };
    }

    // 4. refit: the exact ridge head on the tuned features of everything buffered
    const features = new Float32Array(buffer.length * top.featureDim);
    for (let start = 0; start < buffer.length; start += REFIT_CHUNK) {
      context.signal?.throwIfAborted();
      const chunk = buffer.slice(start, start + REFIT_CHUNK);
      features.set(await topFeatures(top, decodeEntries(chunk, dim), chunk.length, open), start * top.featureDim);
      progress(stepsPlanned + Math.ceil((start + chunk.length) / REFIT_CHUNK));
    }
    const head = await fitHead(features, buffer.map((entry) => entry.className), classNames, top.featureDim, h.lambda);
    progress(stepsPlanned + refitUnits + 1);
    return Object.freeze({
      learnerId: FINETUNE_ID, classNames: Object.freeze(classNames), top, head, buffer: Object.freeze(buffer), hyperParameters: h, updates, training,
    });
  },

  async predict(state, features, count) {
    assertFinetuneState(state);
    const tuned = await topFeatures(state.top, features, count);
    const unit = l2Normalize.adaptFeatures!(tuned, count, state.top.featureDim);
    return analyticRidge.predict(state.head, unit.features, count);
  },

  classNames: (state) => state.classNames,

  bufferedSamples(state) {
    return state.buffer.map((entry: LatentEntry) => ({ key: entry.key, className: entry.className }));
  },

  exportScores(state, graph, features, dim) {
    assertFinetuneState(state);
    const [c, h, w] = state.top.cutShape;
    if (dim !== c * h * w) throw new LearnerInputError(`expected ${c * h * w}-wide cut activations, got ${dim}`);
    const tuned = addTopForward(graph, state.top, features);
    return analyticRidge.exportScores(state.head, graph, l2NormalizeRows(graph, tuned), state.top.featureDim);
  },

  serialize: (state) => encodeFinetuneState(state),
  deserialize: (bytes) => decodeFinetuneState(bytes),
};

async function fitHead(features: Float32Array, labels: readonly string[], classNames: readonly string[], featureDim: number, lambda: number): Promise<AnalyticState> {
  const unit = l2Normalize.adaptFeatures!(features, labels.length, featureDim);
  return analyticRidge.update(
    null,
    { classNames, added: { features: unit.features, labels, count: labels.length, dim: featureDim }, removed: noFeatures(featureDim) },
    { hyperParameters: { lambda, lambdaSelection: 'fixed' } },
  );
}

/** The ridge solution as the training graph's head: weights [D, K] and bias [K] (float32). */
function headMatrices(head: AnalyticState, featureDim: number, classCount: number): { weights: Float32Array; bias: Float32Array } {
  return {
    weights: Float32Array.from(head.weights.subarray(0, featureDim * classCount)),
    bias: Float32Array.from(head.weights.subarray(featureDim * classCount, (featureDim + 1) * classCount)),
  };
}

function checkHyperParameters(h: FinetuneHyperParameters): void {
  const positive = (key: keyof FinetuneHyperParameters) => {
    if (!(h[key] > 0) || !Number.isFinite(h[key])) throw new LearnerInputError(`${key} must be a positive number`);
  };
  positive('learningRate');
  positive('logitScale');
  positive('lambda');
  if (!Number.isInteger(h.epochs) || h.epochs < 0) throw new LearnerInputError('epochs must be a whole number ≥ 0');
  if (!Number.isInteger(h.batchSize) || h.batchSize < 1) throw new LearnerInputError('batchSize must be a whole number ≥ 1');
  if (!(h.featureDistillation >= 0)) throw new LearnerInputError('featureDistillation must be ≥ 0');
  if (!(h.replayRatio >= 0)) throw new LearnerInputError('replayRatio must be ≥ 0');
  if (!(h.bufferMegabytes >= 0)) throw new LearnerInputError('bufferMegabytes must be ≥ 0');
}

export function assertFinetuneState(state: LearnerState): asserts state is FinetuneState {
  if (state.learnerId !== FINETUNE_ID) throw new LearnerInputError(`a state of "${state.learnerId}" is not a finetune state`);
}
