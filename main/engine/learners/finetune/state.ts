// The finetune learner's state and settings (learner.ts computes them, state-codec.ts stores them).
import type { AnalyticState } from '../analytic.js';
import type { LearnerState } from '../learner.js';
import type { LatentBuffer } from './latent-buffer.js';
import type { TopNetwork } from './top-network.js';

export const FINETUNE_ID = 'finetune';

/** `bufferMegabytes` 0 (the project default) means this budget. */
export const FINETUNE_DEFAULT_BUFFER_MEGABYTES = 64;

export const FINETUNE_DEFAULTS = {
  epochs: 3,
  learningRate: 1e-4,
  batchSize: 32,
  logitScale: 10,
  /** Old buffered rows trained beside each new one. */
  replayRatio: 1,
  /** β of the feature distillation on those old rows (their unit features held to the previous top's). */
  featureDistillation: 10,
  bufferMegabytes: 0,
  /** Ridge λ of the final head (on L2-normalized features, as analytic). */
  lambda: 0.5,
  seed: 1,
} as const;
export type FinetuneHyperParameters = { [K in keyof typeof FINETUNE_DEFAULTS]: number };

export interface FinetuneTraining {
  /** Rows of the last tuning pass (new + replayed) and its Adam steps; 0 when it only refit. */
  readonly rows: number;
  readonly steps: number;
  readonly firstEpochLoss: number | null;
  readonly lastEpochLoss: number | null;
}

export interface FinetuneState extends LearnerState {
  readonly learnerId: typeof FINETUNE_ID;
  readonly top: TopNetwork;
  /** Ridge head over the L2-normalized features of `top`. */
  readonly head: AnalyticState;
  readonly buffer: LatentBuffer;
  readonly hyperParameters: FinetuneHyperParameters;
  /** Updates so far, for per-version seeds. */
  readonly updates: number;
  readonly training: FinetuneTraining;
}

