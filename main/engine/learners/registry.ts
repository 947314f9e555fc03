// The learners the app can train, by the id stored with each model version.

import { analyticRidge } from './analytic.js';
import { finetuneLearner } from './finetune/learner.js';
import { withPlugins } from './compose.js';
import type { Learner } from './learner.js';
import { nearestClassMean } from './ncm.js';
import { l2Normalize } from './plugins/l2-normalize.js';
import { replayHead } from './replay/learner.js';

export const learnerIds = ['analytic', 'ncm', 'replay', 'finetune'] as const;
export type LearnerId = (typeof learnerIds)[number];

// A registered id names a fixed recipe (core + plugins): the stored state is only meaningful
// to the same recipe, and the composed learner checks that when deserializing.
const learners: Readonly<Record<LearnerId, Learner>> = {
  analytic: withPlugins('analytic', analyticRidge, [l2Normalize]),
  ncm: withPlugins('ncm', nearestClassMean, [l2Normalize]),
  replay: withPlugins('replay', replayHead, [l2Normalize]),
  // Its own recipe: the top layers, a ridge head over their normalized features, a latent buffer.
  finetune: finetuneLearner,
};

export function isLearnerId(id: string): id is LearnerId {
  return (learnerIds as readonly string[]).includes(id);
}

/**
 * Whether the learner `id` trains the backbone's top, so the project resolves the split backbone
 * for it (its inputs are cut activations). Known before the learner is looked up: the project
 * resolves its backbone first.
 */
export function learnerTrainsBackboneTop(id: string): boolean {
  return isLearnerId(id) && learners[id].trainsBackboneTop === true;
}

export function getLearner(id: string): Learner {
  if (!isLearnerId(id)) throw new Error(`unknown learner "${id}" (known: ${learnerIds.join(', ')})`);
  return learners[id];
}
