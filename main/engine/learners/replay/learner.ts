// The replay learner's core: a head (linear, or one hidden ReLU layer) trained by a HeadTrainer
// on each version's new samples mixed with a buffer of exemplars of every class.
//
//   update:  class statistics += added − removed
//            output rows remapped (kept classes keep theirs); new rows imprinted from class means
//            buffer −= removed samples and dropped classes
//            main pass: added + old exemplars (+ translated pseudo-features of old classes),
//                       class-balanced loss weights, seeded batches, cosine schedule,
//                       distillation on old logits when enabled (plugin)
//            buffer refreshed: herding or reservoir per class, within the sample/MB budget
//            bias correction (plugin): weight aligning or a class-balanced fine-tuning pass
//                       (which keeps the loss terms, so distillation holds there too)
//
// The trainer comes from UpdateContext.trainer (the ONNX one in the app), else the TypeScript
// reference: both run the same math, so results only differ by float rounding.
import { TypeScriptTrainer } from '../../training/typescript-trainer.js';
import { headLogitsOnnx } from './head-logits-onnx.js';
import { addHeadLogits } from '../../training/graph/head-loss.js';
import { parameterShapes, type HeadArchitecture, type LossSettings, type TrainingSamples } from '../../training/head-trainer.js';
import { validateDelta } from '../delta.js';
import { LearnerInputError, type LabeledFeatures, type Learner, type LearnerState } from '../learner.js';
import { balancedFinetune } from '../plugins/balanced-finetune.js';
import { distillation } from '../plugins/distillation.js';
import { weightAligning } from '../plugins/weight-aligning.js';
import { checkpoint } from '../progress.js';
import { emptyBuffer, refreshBuffer, removeFromBuffer, type ExemplarBuffer } from './buffer.js';
import { updateStatistics, type ClassStatistics } from './class-statistics.js';
import { initialParameters, remapOptimizerState, remapParameters } from './head.js';
import { REPLAY_DEFAULTS, resolveReplayHyperParameters, type ReplayHyperParameters } from './hyper-parameters.js';
import { imprintRows } from './imprinting.js';
import { seededRandom, versionSeed } from '../seeded-random.js';
import { deserializeReplayState, REPLAY_CORE_ID, serializeReplayState, type ReplayState } from './state.js';
import { trainingSamples, trainPass, type PassSettings } from './training-pass.js';
import type { HeadTrainingState, PassLossContext, ReplayTrainingContext, ReplayTrainingPlugin } from './training-plugin.js';
import { translatedCount, translatedFeatures } from './translation.js';

export { REPLAY_CORE_ID, type ReplayState } from './state.js';

function trainingPlugins(h: ReplayHyperParameters): ReplayTrainingPlugin[] {
  const plugins: ReplayTrainingPlugin[] = [];
  if (h.distillationWeight > 0) plugins.push(distillation);
  if (h.biasCorrection === 'weight-aligning') plugins.push(weightAligning);
  if (h.biasCorrection === 'balanced-finetune') plugins.push(balancedFinetune);
  return plugins;
}

export const replayHead: Learner<ReplayState> = {
  id: REPLAY_CORE_ID,
  defaultHyperParameters: REPLAY_DEFAULTS as unknown as Learner['defaultHyperParameters'],

  async update(previous, delta, context = {}) {
    if (previous) assertReplayState(previous);
    const dim = validateDelta(delta, previous?.dim ?? null);
    const h = resolveReplayHyperParameters(REPLAY_CORE_ID, previous?.hyperParameters ?? null, context.hyperParameters);
    if (previous && previous.architecture.hiddenDim !== h.hiddenUnits) {
      throw new LearnerInputError(`hiddenUnits is ${previous.architecture.hiddenDim} in this model and cannot change between versions`);
    }
    await checkpoint(context, 0, 1);
    const updates = previous?.updates ?? 0;
    const seed = versionSeed(h.seed, updates);
    const classNames = Object.freeze([...delta.classNames]);
    const previousNames = previous?.classNames ?? [];
    const previousSet = new Set(previousNames);
    const dropped = new Set(previousNames.filter((name) => !classNames.includes(name)));

    const statistics = updateStatistics(previous?.statistics ?? null, classNames, dim, delta.added, delta.removed, dropped);
    const architecture: HeadArchitecture = { inputDim: dim, hiddenDim: h.hiddenUnits, classCount: classNames.length };
    const parameters = previous
      ? remapParameters(previous.parameters, previous.architecture, previousNames, classNames)
      : initialParameters(architecture, seed);
    const oldClasses = classNames.flatMap((name, c) => (previousSet.has(name) ? [c] : []));
    const newClasses = classNames.flatMap((name, c) => (previousSet.has(name) ? [] : [c]));
    imprintRows(parameters, architecture, classNames, newClasses, oldClasses, delta.added, h.imprintNorm);
    const optimizer = remapOptimizerState(h.resetOptimizer ? null : previous?.optimizer ?? null, previous?.optimizerKind ?? null, h.optimizer, parameters, architecture, previousNames, classNames);

    const random = seededRandom(seed);
    const replayed = removeFromBuffer(previous?.buffer ?? emptyBuffer(dim), classNames, delta.removed);
    const previousCounts = new Map(previous ? previous.statistics.classNames.map((name, c) => [name, previous.statistics.counts[c]!]) : []);
    const buffer = refreshBuffer(replayed, delta.added, statistics, previousCounts, h, random);

    let head: HeadTrainingState = { parameters, state: optimizer };
    if (delta.added.count > 0 && h.epochs > 0) {
      const oldPrefix = prefixLength(classNames, previousSet);
      const teacher = previous && oldPrefix > 0 ? teacherLogits(previous, classNames.slice(0, oldPrefix)) : null;
      // Pseudo-features stand in for old classes that get no new samples; a class that does is
      // represented by them, and translated old-look features would drown its new look.
      const arriving = new Set(delta.added.labels);
      const withSamples = oldClasses.filter((c) => statistics.counts[c]! > 0 && (!h.translateOnlyAbsentClasses || !arriving.has(classNames[c]!)));
      const data = realAndTranslated(delta.added, replayed, statistics, withSamples, translationCount(delta.added, h.translatedPerClass), random);
      const pass: PassSettings = {
        epochs: h.epochs,
        batchSize: h.batchSize,
        optimizer: { kind: h.optimizer, learningRate: h.learningRate, weightDecay: h.weightDecay },
        classBalanced: h.classBalanced,
        seed,
      };
      const trainer = context.trainer ?? new TypeScriptTrainer();
      try {
        const plugins = trainingPlugins(h);
        const arrivingClasses = new Set(oldClasses.filter((c) => arriving.has(classNames[c]!)));
        const base = { architecture, classNames, oldClasses, newClasses, arrivingClasses, oldPrefix, teacher, buffer, hyperParameters: h, pass, trainer, signal: context.signal };
        const trainingContext: ReplayTrainingContext = { ...base, withLossTerms: (samples) => withLossTerms(plugins, samples, base) };
        const { samples, loss } = await trainingContext.withLossTerms(trainingSamples(data, classNames, h.classBalanced));
        head = await trainPass(trainer, architecture, head.parameters, head.state, samples, loss, pass, context.signal);
        for (const plugin of plugins) if (plugin.afterTraining) head = await plugin.afterTraining(head, trainingContext);
      } finally {
        if (!context.trainer) await trainer.close();
      }
    }
    context.signal?.throwIfAborted();
    context.onProgress?.(1, 1);
    return Object.freeze({
      learnerId: REPLAY_CORE_ID,
      classNames,
      dim,
      hyperParameters: h,
      updates: updates + 1,
      architecture,
      parameters: head.parameters,
      optimizerKind: h.optimizer,
      optimizer: head.state,
      statistics,
      buffer,
    });
  },

  async predict(state, features, count) {
    assertReplayState(state);
    if (features.length !== count * state.dim) throw new LearnerInputError(`expected ${count}×${state.dim} features, got ${features.length} floats`);
    const scores = await headLogitsOnnx(state.architecture, state.parameters, features, count);
    const C = state.classNames.length;
    state.statistics.counts.forEach((n, c) => {
      if (n === 0) for (let r = 0; r < count; r++) scores[r * C + c] = -Infinity;
    });
    return scores;
  },

  classNames: (state) => state.classNames,

  exportScores(state, graph, features, dim) {
    assertReplayState(state);
    if (dim !== state.dim) throw new LearnerInputError(`expected ${state.dim}-wide features, got ${dim}`);
    // The training graphs' own forward pass over constant parameters; classes without samples
    // get a −∞ output bias, as predict gives them −∞ scores.
    const shapes = parameterShapes(state.architecture);
    const outputBias = state.parameters.length - 1;
    const names = state.parameters.map((values, i) =>
      graph.addFloatInitializer(
        `replay_head_${i}`,
        shapes[i]!,
        i === outputBias ? Float32Array.from(values, (v, c) => (state.statistics.counts[c] === 0 ? -Infinity : v)) : values,
      ),
    );
    return addHeadLogits(graph, state.architecture, names, features);
  },

  bufferedSamples(state) {
    assertReplayState(state);
    return state.buffer.labels.flatMap((className, i) => {
      const key = state.buffer.keys[i];
      return key ? [{ key, className }] : [];
    });
  },

  serialize(state) {
    assertReplayState(state);
    return serializeReplayState(state);
  },

  deserialize: deserializeReplayState,
};

/** `samples` with every plugin's loss terms added, in plugin order. */
async function withLossTerms(plugins: readonly ReplayTrainingPlugin[], samples: TrainingSamples, context: PassLossContext): Promise<{ loss: LossSettings; samples: TrainingSamples }> {
  let loss: LossSettings = {};
  for (const plugin of plugins) {
    if (!plugin.passLoss) continue;
    const extended = await plugin.passLoss(samples, context);
    samples = extended.samples;
    loss = { ...loss, ...extended.loss };
  }
  return { loss, samples };
}

/** Pseudo-features per old class: as many as a class of the new data has on average (so old and
 * new classes are seen about equally often), at most `cap`. */
function translationCount(added: LabeledFeatures, cap: number): number {
  const classes = new Set(added.labels).size;
  return classes === 0 ? 0 : Math.min(cap, Math.round(added.count / classes));
}

/** How many leading classes are old: distillation covers the first K logits. */
function prefixLength(classNames: readonly string[], previous: ReadonlySet<string>): number {
  let k = 0;
  while (k < classNames.length && previous.has(classNames[k]!)) k++;
  return k;
}

/** The previous head's logits for `oldNames`, in that order. */
function teacherLogits(previous: ReplayState, oldNames: readonly string[]): (features: Float32Array, count: number) => Promise<Float32Array> {
  const columns = oldNames.map((name) => previous.classNames.indexOf(name));
  const C = previous.classNames.length;
  return async (features, count) => {
    const all = await headLogitsOnnx(previous.architecture, previous.parameters, features, count);
    const out = new Float32Array(count * columns.length);
    for (let r = 0; r < count; r++) columns.forEach((p, k) => (out[r * columns.length + k] = all[r * C + p]!));
    return out;
  };
}

/** The main pass's rows in one matrix: new samples, replayed exemplars, then pseudo-features of old
 * classes translated from those real rows (written in place: one allocation, not three). */
function realAndTranslated(
  added: LabeledFeatures, replayed: ExemplarBuffer, statistics: ClassStatistics, targets: readonly number[], perClass: number, random: () => number,
): LabeledFeatures {
  const { dim } = statistics;
  const realCount = added.count + replayed.count;
  const realLabels = [...added.labels, ...replayed.labels];
  const translatedRows = translatedCount(targets, { features: new Float32Array(0), labels: realLabels, count: realCount, dim }, perClass);
  const features = new Float32Array((realCount + translatedRows) * dim);
  features.set(added.features.subarray(0, added.count * dim), 0);
  features.set(replayed.features.subarray(0, replayed.count * dim), added.count * dim);
  const real: LabeledFeatures = { features: features.subarray(0, realCount * dim), labels: realLabels, count: realCount, dim };
  const translated = translatedFeatures(statistics, targets, real, perClass, random, features.subarray(realCount * dim));
  return { features, labels: [...realLabels, ...translated.labels], count: realCount + translated.count, dim };
}

function assertReplayState(state: LearnerState): asserts state is ReplayState {
  if (state.learnerId !== REPLAY_CORE_ID) throw new LearnerInputError(`state of "${state.learnerId}" given to ${REPLAY_CORE_ID}`);
}
