// The learners the app can train, by the id stored with each model version.

import { analyticRidge } from './analytic.js';
import { withPlugins } from './compose.js';
import type { Learner } from './learner.js';
import { nearestClassMean } from './ncm.js';
import { l2Normalize } from './plugins/l2-normalize.js';
import { replayHead } from './replay/learner.js';

export const learnerIds = ['analytic', 'ncm', 'replay'] as const;
export type LearnerId = (typeof learnerIds)[number];

// A registered id names a fixed recipe (core + plugins): the stored state is only meaningful
// to the same recipe, and the composed learner checks that when deserializing.
const learners: Readonly<Record<LearnerId, Learner>> = {
  analytic: withPlugins('analytic', analyticRidge, [l2Normalize]),
  ncm: withPlugins('ncm', nearestClassMean, [l2Normalize]),
  replay: withPlugins('replay', replayHead, [l2Normalize]),
};

export function isLearnerId(id: string): id is LearnerId {
  return (learnerIds as readonly string[]).includes(id);
}

/**
 * Whether the learner `id` trains the backbone's top, so the project resolves the split backbone
 * for it (its inputs are cut activations). Known before the learner is looked up: the project
 * resolves its backbone first. 'finetune' is not registered yet; once it is, its
 * `trainsBackboneTop` says the same.
 */
export function learnerTrainsBackboneTop(id: string): boolean {
  return id === 'finetune' || (isLearnerId(id) && learners[id].trainsBackboneTop === true);
}

export function getLearner(id: string): Learner {
  if (!isLearnerId(id)) throw new Error(`unknown learner "${id}" (known: ${learnerIds.join(', ')})`);
  return learners[id];
}
