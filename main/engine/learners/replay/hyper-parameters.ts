// The replay learner's settings: one flat record (what UpdateContext.hyperParameters carries),
// stored with each version so a later update continues with the same recipe unless told otherwise.
//
// Defaults chosen by measurement (MobileNetV2 features through the product pipeline, bench
// protocol, 20 exemplars per class; final / average incremental accuracy %):
//                                            Caltech 10×10      CIFAR-10 5×2
//   joint (analytic, all data)                 90.3 / 92.6        71.1 / 78.5
//   plain: reservoir, unweighted loss (adam)   89.2 / 92.5        56.7 / 68.1
//   + herding                                  89.1 / 92.2        59.2 / 69.8
//   + class-balanced loss                          –              63.9 / 75.6
//   + translated old-class features            88.8 / 92.2        68.0 / 77.6
//   + distillation (w 3, T 2)                  89.7 / 92.3        68.5 / 77.8
//   + balanced fine-tuning (adam, no decay)    90.1 / 92.6        68.7 / 78.0  (seeds 1–5 mean 68.7)
//   + adamw, decay 0.1                         90.4 / 92.6        68.8 / 78.0  (CIFAR seeds 1–5 mean,
//                                            (seeds 1–3 mean)                 Caltech 1–3)
//   + distillation in the fine-tuning pass     90.8 / 92.9        69.4 / 78.2  (seeds 1–5 mean;
//     = defaults                                                             seed 1: 70.1,
//                                                                            range 68.8–70.1)
//   weight aligning instead of fine-tuning     90.4 / 91.4        68.2 / 77.5  (seed 1; with adam
//                                                                            73.7 / 64.8 final)
// Why decoupled weight decay: a softmax head on separable features keeps growing its weights, so
// accuracy falls the longer it trains (one joint pass over CIFAR-10, adam: 30 epochs 70.7, 60:
// 69.8, 150: 68.3), and every version trains old rows again. With adamw 0.1 the 150-epoch pass
// stays at 70.5, and incremental training that replays every sample reaches 70.4 (adam: 68.0), so
// what remains of the gap to joint is the buffer's, not the optimizer's. Decay 0.05/0.2/0.5:
// 69.1/68.9/68.3 (CIFAR, seeds 1–5 or 1); L2 inside adam (decay 0.001) hurts (joint 67.0).
// Weight aligning shrinks new rows that balanced training already sized right (with adam, new
// classes collapsed: Caltech step 3, 50 % new); it stays an option, measured, not a default.
// Also tried, no better on CIFAR than the defaults beyond seed noise (±0.5; seeds 1–5 unless
// said): distillation T 4 (69.5), weight 1/6 (69.3/69.4), logit-matching (MSE, DER-style)
// distillation w 0.1–3 (69.2–69.5), fine-tuning 5/15/20/30 epochs or lr 0.01–0.1 (68.6–69.2),
// main lr 0.015/0.06 (69.4), 15 epochs (69.4), batch 64 (68.3), reservoir buffer (67.5), old
// exemplars weighted ×3/×10/×0.3/×0 against translated features (68.3/66.9/69.4/69.3),
// translated features rescaled to the target class's spread, per dimension or overall (69.2/69.4),
// translated features in the fine-tuning pass too (69.1, seeds 1–3), translation sources drawn
// without replacement (69.2), freezing old rows during the main pass (66.7, seeds 1–3), a
// BiC-style affine correction of new logits fitted on held-out samples (67.0–68.1). Earlier, with adam: sgd (lr 0.5–10), adam lr 0.01/0.05, batch 32–256, 15–60
// epochs, resetting optimizer moments, distillation weight 1–10 and T 1–4, 600 translated per
// class, class-uniform translation sources, spread-matched or re-normalized translations, a
// 256-unit hidden layer (joint 68.1), distilling into a re-initialized head each version (67.7),
// re-imprinting every row from the class means each version (69.4 68.7 68.7, seeds 1–3).
// Per-class Gaussians (mean + 32 principal directions + isotropic rest, SLCA-style) instead of
// translation reach 69.3 / 79.2 (adam) — but cost 164 KB per class on top of the exemplars
// (≈ 32 more exemplars), and 52 plain exemplars per class (the same megabytes) reach 69.0 / 78.6:
// at equal memory they buy nothing, so they are not in.
import { LearnerInputError } from '../learner.js';
import { resolveHyperParameters } from '../hyper-parameters.js';
import type { HyperParameters } from '../learner.js';

export const BUFFER_SELECTIONS = ['herding', 'reservoir'] as const;
export const BIAS_CORRECTIONS = ['none', 'weight-aligning', 'balanced-finetune'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;

export interface ReplayHyperParameters {
  /** 0: linear head; otherwise one hidden ReLU layer of this width. */
  hiddenUnits: number;
  epochs: number;
  batchSize: number;
  optimizer: (typeof OPTIMIZERS)[number];
  learningRate: number;
  weightDecay: number;
  /** Start each version's optimizer moments from zero instead of the stored ones. */
  resetOptimizer: boolean;
  seed: number;
  /** Exemplars kept per class. */
  bufferPerClass: number;
  /** When > 0, the buffer (exemplars and class statistics) must fit in this many megabytes
   * (10⁶ bytes); the per-class share then shrinks as classes are added. */
  bufferMegabytes: number;
  bufferSelection: (typeof BUFFER_SELECTIONS)[number];
  /** Weights every class equally in the loss, however many samples it has (new data vs exemplars). */
  classBalanced: boolean;
  /** Old-class pseudo-features per old class and update, translated from real samples (FeTrIL):
   * μ_old + (x − μ_class(x)); as many as a new class has samples, at most this. Needs only the
   * stored class means. 0 disables. */
  translatedPerClass: number;
  /** Translate pseudo-features only for old classes that get no new samples in this update. */
  translateOnlyAbsentClasses: boolean;
  /** LwF/iCaRL distillation of old logits; 0 disables. */
  distillationWeight: number;
  distillationTemperature: number;
  /** For old classes that an update brings new samples of, distill their rows towards the labels
   * rather than the previous head, so distillation never holds what new labels contradict. */
  labelsOverrideDistillation: boolean;
  biasCorrection: (typeof BIAS_CORRECTIONS)[number];
  /** balanced-finetune: epochs over the (class-balanced) buffer and their learning rate. */
  finetuneEpochs: number;
  finetuneLearningRate: number;
  /** Length of imprinted rows in the first version (later ones match the old rows' mean length). */
  imprintNorm: number;
}

export const REPLAY_DEFAULTS: Readonly<ReplayHyperParameters> = Object.freeze({
  hiddenUnits: 0,
  epochs: 30,
  batchSize: 128,
  optimizer: 'adamw',
  learningRate: 0.03,
  weightDecay: 0.1,
  resetOptimizer: false,
  seed: 1,
  bufferPerClass: 20,
  bufferMegabytes: 0,
  bufferSelection: 'herding',
  classBalanced: true,
  translatedPerClass: 200,
  translateOnlyAbsentClasses: true,
  distillationWeight: 3,
  distillationTemperature: 2,
  labelsOverrideDistillation: true,
  biasCorrection: 'balanced-finetune',
  finetuneEpochs: 10,
  finetuneLearningRate: 0.05,
  imprintNorm: 10,
});

export function resolveReplayHyperParameters(
  learnerId: string,
  previous: ReplayHyperParameters | null,
  fromContext: HyperParameters | undefined,
): ReplayHyperParameters {
  const h = resolveHyperParameters(learnerId, REPLAY_DEFAULTS as unknown as Record<string, number | string | boolean>, previous as unknown as Record<string, number | string | boolean> | null, fromContext) as unknown as ReplayHyperParameters;
  const nonNegativeInteger = ['hiddenUnits', 'epochs', 'bufferPerClass', 'translatedPerClass', 'finetuneEpochs', 'seed'] as const;
  for (const key of nonNegativeInteger) {
    if (!Number.isInteger(h[key]) || h[key] < 0) throw new LearnerInputError(`${key} must be a non-negative integer`);
  }
  if (!Number.isInteger(h.batchSize) || h.batchSize < 1) throw new LearnerInputError('batchSize must be a positive integer');
  for (const key of ['learningRate', 'finetuneLearningRate', 'distillationTemperature', 'imprintNorm'] as const) {
    if (!(h[key] > 0) || !Number.isFinite(h[key])) throw new LearnerInputError(`${key} must be a positive number`);
  }
  for (const key of ['weightDecay', 'distillationWeight', 'bufferMegabytes'] as const) {
    if (!(h[key] >= 0) || !Number.isFinite(h[key])) throw new LearnerInputError(`${key} must be a non-negative number`);
  }
  if (!BUFFER_SELECTIONS.includes(h.bufferSelection)) throw new LearnerInputError(`bufferSelection must be one of ${BUFFER_SELECTIONS.join(', ')}`);
  if (!BIAS_CORRECTIONS.includes(h.biasCorrection)) throw new LearnerInputError(`biasCorrection must be one of ${BIAS_CORRECTIONS.join(', ')}`);
  if (!OPTIMIZERS.includes(h.optimizer)) throw new LearnerInputError(`optimizer must be one of ${OPTIMIZERS.join(', ')}`);
  return Object.freeze({ ...h });
}
