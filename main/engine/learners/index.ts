// Public surface of the learners module.
export type {
  BackboneTop, HyperParameters, LabeledFeatures, Learner, LearnerPlugin, LearnerState, PluginUpdateEvent, TrainingDelta, UpdateContext,
} from './learner.js';
export { LearnerInputError, noFeatures } from './learner.js';
export { getLearner, isLearnerId, learnerIds, learnerTrainsBackboneTop, type LearnerId } from './registry.js';
export { withPlugins, type ComposedState } from './compose.js';
export { l2Normalize } from './plugins/l2-normalize.js';
export { analyticRidge, solveRidge, ANALYTIC_DEFAULTS, type AnalyticState } from './analytic.js';
export { nearestClassMean, type NcmState } from './ncm.js';
export { StateFormatError } from './codec.js';
export { replayHead, REPLAY_CORE_ID, type ReplayState } from './replay/learner.js';
export { REPLAY_DEFAULTS, type ReplayHyperParameters } from './replay/hyper-parameters.js';
