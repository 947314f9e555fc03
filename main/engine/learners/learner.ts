// The learner contract: how a model version is computed from the previous one plus what changed
// in the dataset, and how it scores images. Modelled on Avalanche's split between a strategy
// (a Learner) and plugins that hook into it at named points (see LearnerPlugin and compose.ts).
//
// Every learner can also write its scoring as ONNX nodes (exportScores), so a version exports as one
// model file (backbone + head) that any ONNX Runtime runs with the same scores as `predict`.
//
// States are immutable values: `update` never mutates `previous`, and `serialize` captures
// everything `predict` and a later `update` need, so a stored version rolls back exactly.

import type { InferenceSession } from 'onnxruntime-node';
import type { HeadTrainer } from '../training/head-trainer.js';

/** Labeled backbone features: `count` rows of `dim` floats, row-major, one class name per row. */
import type { GraphBuilder } from '../onnx/graph-builder.js';

export interface LabeledFeatures {
  readonly features: Float32Array;
  readonly labels: readonly string[];
  readonly count: number;
  readonly dim: number;
  /** Optional caller key per row (update.ts: the content hash), so a learner that keeps samples
   * (a replay buffer) can say which ones it kept and match later removals. */
  readonly keys?: readonly string[];
  /** The caller hands `features` over and never reads them again, so the learner may transform
   * them in place instead of copying them (update.ts: its training matrices, which at 30k
   * samples are the largest thing in memory). */
  readonly handedOver?: boolean;
}

/** What changed between two dataset versions. */
export interface TrainingDelta {
  /** Every class of the new version, in output (score column) order. */
  readonly classNames: readonly string[];
  /** Samples new in this version (raw backbone features). */
  readonly added: LabeledFeatures;
  /** Samples gone in this version, including every sample of a class whose folder was removed. */
  readonly removed: LabeledFeatures;
}

export type HyperParameters = Readonly<Record<string, number | string | boolean>>;

export interface UpdateContext {
  /** Learner-specific settings (e.g. `lambda` for analytic); unknown keys are rejected. */
  readonly hyperParameters?: HyperParameters;
  /** Aborting rejects the update with the signal's reason; `previous` is untouched either way. */
  readonly signal?: AbortSignal;
  /** Work units done out of total (the project's progress convention). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Runs gradient steps for learners that train a head (replay); when absent they use the
   * TypeScript reference trainer. Results must not depend on which trainer it is. */
  readonly trainer?: HeadTrainer;
  /** Opens an ONNX graph of the learner's own on the update's device (--device, falling back like
   * the trainer); learners that run their own training graphs use it (finetune). */
  readonly openGraph?: (model: Uint8Array) => Promise<InferenceSession>;
  /** For learners with `trainsBackboneTop`: the backbone's layers after the cut, as pretrained. */
  readonly backboneTop?: BackboneTop;
}

/**
 * The trainable top of a backbone split for fine-tuning: an ONNX model from the cut activation
 * (`input`, [N, C, H, W]) to the features (`output`, [N, featureDim]). A learner that fine-tunes
 * starts from these weights and keeps its own in each version.
 */
export interface BackboneTop {
  readonly model: Uint8Array;
  readonly input: string;
  readonly output: string;
  /** C, H, W of one sample's cut activation; the learner's input rows are C·H·W floats. */
  readonly cutShape: readonly [number, number, number];
  readonly featureDim: number;
}

/** What every learner state exposes; the rest is the learner's own business. */
export interface LearnerState {
  /** Id of the learner that made this state; learners refuse states made by another. */
  readonly learnerId: string;
  /** Score column order. */
  readonly classNames: readonly string[];
}

/**
 * A learner (the "strategy"). `update` is async because gradient-trained learners run training
 * graphs off the main thread; `predict` is async because a learner may score with its own layers
 * in ONNX Runtime (finetune runs its fine-tuned backbone top there).
 * S is the learner's state type; callers that hold any learner use Learner (or Learner<unknown>)
 * and treat states as opaque. Methods use method syntax on purpose, so that a Learner<AnalyticState>
 * is usable as such a Learner; each learner checks at run time that a state is its own.
 */
export interface Learner<S = LearnerState> {
  readonly id: string;
  /** True for learners that train the backbone's top layers: their input rows are the cut
   * activations of a split backbone, and `update` needs `context.backboneTop`. */
  readonly trainsBackboneTop?: boolean;
  /** Every hyper-parameter this learner reads, with the value used when neither the context
   * nor the previous state sets it. */
  readonly defaultHyperParameters: HyperParameters;
  update(previous: S | null, delta: TrainingDelta, context?: UpdateContext): Promise<S>;
  /** count×C scores in `classNames(state)` order; higher is more likely. Classes without any
   * training sample score −Infinity. */
  predict(state: S, features: Float32Array, count: number): Promise<Float32Array>;
  classNames(state: S): readonly string[];
  /** Learners that keep samples (a replay buffer): the keys (LabeledFeatures.keys) of those
   * kept in `state`, for the caller to record. */
  bufferedSamples?(state: S): ReadonlyArray<{ readonly key: string; readonly className: string }>;
  serialize(state: S): Uint8Array;
  deserialize(bytes: Uint8Array): S;
  /** Adds nodes to `graph` that compute what `predict` computes, from the value `features`
   * ([N, dim] float32); returns the name of the [N, C] scores value. */
  exportScores(state: S, graph: GraphBuilder, features: string, dim: number): string;
}

/** Arguments every update hook receives; `learner` is the composed learner (plugins included),
 * so a plugin can score with `previous` (distillation targets, bias-correction fitting). */
export interface PluginUpdateEvent<P> {
  readonly learner: Learner;
  readonly previous: LearnerState | null;
  /** This plugin's own state in `previous` (undefined on the first version or if it keeps none). */
  readonly pluginState: P | undefined;
}

/**
 * Optional hooks a learner calls at fixed points, in the order plugins were composed.
 * A plugin that keeps state (e.g. a replay buffer) returns it from `afterUpdate` and provides
 * `encodeState`/`decodeState`; that state is stored inside the learner state, so it rolls back
 * together with the model version.
 */
export interface LearnerPlugin<P = unknown> {
  readonly id: string;
  /** Before the core learner sees the delta, on raw backbone features: e.g. replay adds
   * buffered exemplars of old classes. Returns the delta to train on. */
  beforeUpdate?(delta: TrainingDelta, event: PluginUpdateEvent<P>, context: UpdateContext): TrainingDelta | Promise<TrainingDelta>;
  /** Maps backbone features to what the core learner sees, for added, removed and predicted
   * samples alike. A fixed per-sample function (no plugin state, same in every version): that is
   * what lets a sample added in one version be subtracted exactly in a later one. Returns a new
   * array of count × (output width); the output width must not depend on the input values.
   * With `inPlace` it may instead write into `features` and return it (the caller gave it up). */
  adaptFeatures?(features: Float32Array, count: number, dim: number, inPlace?: boolean): { features: Float32Array; dim: number };
  /** After the core learner produced `next`: returns this plugin's new state (e.g. a refreshed
   * replay buffer, fitted bias-correction parameters). */
  afterUpdate?(
    event: PluginUpdateEvent<P> & { readonly next: LearnerState; readonly delta: TrainingDelta },
    context: UpdateContext,
  ): P | undefined | Promise<P | undefined>;
  /** Post-processes count×C scores, e.g. bias correction of new-class logits. */
  adaptScores?(scores: Float32Array, count: number, classNames: readonly string[], pluginState: P | undefined): Float32Array;
  /** The graph form of adaptFeatures; required of every plugin that has adaptFeatures. */
  exportFeatures?(graph: GraphBuilder, features: string, dim: number): { value: string; dim: number };
  /** The graph form of adaptScores; required of every plugin that has adaptScores. */
  exportScores?(graph: GraphBuilder, scores: string, classNames: readonly string[], pluginState: P | undefined): string;
  encodeState?(state: P): Uint8Array;
  decodeState?(bytes: Uint8Array): P;
}

/** A caller passed something the contract rules out (wrong dimension, unknown class, …). */
export class LearnerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LearnerInputError';
  }
}

/** Zero samples of the given width: for deltas that only add or only remove. */
export function noFeatures(dim: number): LabeledFeatures {
  return { features: new Float32Array(0), labels: [], count: 0, dim };
}
