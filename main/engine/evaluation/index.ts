// Public surface of the evaluation module.
export { DEFAULT_HELD_OUT_FRACTION, hashPosition, splitClassSamples, type ClassSplit } from './split.js';
export {
  accuracyByClass, averageIncrementalAccuracy, bestSoFar, evaluatePredictions, finalAccuracy,
  type ClassAccuracy, type ConfusionMatrix, type EvaluationInput, type EvaluationReport, type Forgetting,
} from './metrics.js';
