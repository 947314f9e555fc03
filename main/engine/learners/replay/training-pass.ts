// One training pass: labeled samples → trainer request (class-balanced weights, seeded batches,
// cosine schedule) → new parameters and optimizer state.
import type { HeadArchitecture, HeadParameters, HeadTrainer, LossSettings, OptimizerSettings, OptimizerState, TrainingSamples } from '../../training/head-trainer.js';
import type { LabeledFeatures } from '../learner.js';
import { cosineSchedule, planBatches } from './batches.js';

export interface PassSettings {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerSettings;
  readonly classBalanced: boolean;
  readonly seed: number;
}

/** Trainer samples for `data` in the column order of `classNames`. */
export function trainingSamples(data: LabeledFeatures, classNames: readonly string[], classBalanced: boolean): TrainingSamples {
  const index = new Map(classNames.map((name, c) => [name, c]));
  const labels = Int32Array.from(data.labels, (label) => {
    const c = index.get(label);
    if (c === undefined) throw new Error(`training sample labeled "${label}", which has no output`);
    return c;
  });
  if (!classBalanced) return { features: data.features, labels, count: data.count };
  // Every class present gets the same total weight; the mean weight stays 1.
  const perClass = new Map<number, number>();
  for (const c of labels) perClass.set(c, (perClass.get(c) ?? 0) + 1);
  const weights = Float32Array.from(labels, (c) => data.count / (perClass.size * perClass.get(c)!));
  return { features: data.features, labels, count: data.count, weights };
}

export async function trainPass(
  trainer: HeadTrainer,
  architecture: HeadArchitecture,
  parameters: HeadParameters,
  state: OptimizerState,
  samples: TrainingSamples,
  loss: LossSettings,
  settings: PassSettings,
  signal?: AbortSignal,
): Promise<{ parameters: HeadParameters; state: OptimizerState }> {
  const plan = planBatches(samples.count, settings.epochs, settings.batchSize, settings.seed);
  if (plan.steps === 0) return { parameters, state };
  const result = await trainer.train(
    { architecture, optimizer: settings.optimizer, loss, parameters, state, samples, batches: plan.batches, batchSize: plan.batchSize, schedule: cosineSchedule(plan.steps) },
    signal,
  );
  return { parameters: result.parameters, state: result.state };
}
