// Training-loop hooks of the replay learner (the points compose.ts leaves to a gradient-trained
// core): extra loss terms for every training pass (distillation), and corrections once the main
// pass is done (bias correction). The replay learner picks its plugins from its hyper-parameters,
// so every variant is the one registered learner and a stored version records which variant made it.
import type { HeadArchitecture, HeadParameters, HeadTrainer, LossSettings, OptimizerState, TrainingSamples } from '../../training/head-trainer.js';
import type { ExemplarBuffer } from './buffer.js';
import type { ReplayHyperParameters } from './hyper-parameters.js';
import type { PassSettings } from './training-pass.js';

export interface ReplayTrainingContext {
  readonly architecture: HeadArchitecture;
  readonly classNames: readonly string[];
  /** Output indices of classes the previous version had / that are new in this one. */
  readonly oldClasses: readonly number[];
  readonly newClasses: readonly number[];
  /** Output indices of old classes that this update brings new samples of (new looks, new instances). */
  readonly arrivingClasses: ReadonlySet<number>;
  /** K: classNames[0..K) are all old classes (the distillable prefix). */
  readonly oldPrefix: number;
  /** The previous version's logits over classNames[0..oldPrefix), or null on the first version. */
  readonly teacher: ((features: Float32Array, count: number) => Promise<Float32Array>) | null;
  /** The buffer as refreshed by this update (class-balanced by construction). */
  readonly buffer: ExemplarBuffer;
  /** The plugins' loss terms for `samples` (and what those need in them, e.g. teacher logits):
   * every pass uses them, so a bias-correction pass keeps what distillation holds in place. */
  readonly withLossTerms: (samples: TrainingSamples) => Promise<{ loss: LossSettings; samples: TrainingSamples }>;
  readonly hyperParameters: ReplayHyperParameters;
  readonly pass: PassSettings;
  readonly trainer: HeadTrainer;
  readonly signal?: AbortSignal | undefined;
}

/** What a loss plugin sees: the context without the loss terms it helps make. */
export type PassLossContext = Omit<ReplayTrainingContext, 'withLossTerms'>;

export interface HeadTrainingState {
  readonly parameters: HeadParameters;
  readonly state: OptimizerState;
}

export interface ReplayTrainingPlugin {
  readonly id: string;
  /** Loss terms (and what they need in the samples, e.g. teacher logits) for a training pass. */
  passLoss?(samples: TrainingSamples, context: PassLossContext): Promise<{ loss: LossSettings; samples: TrainingSamples }>;
  /** Runs after the main pass; returns the corrected head. */
  afterTraining?(head: HeadTrainingState, context: ReplayTrainingContext): Promise<HeadTrainingState>;
}
