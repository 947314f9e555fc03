// What each learner does and what it costs, in words for people: the Settings screen shows the
// selected learner's (through the settings result), so the UI and the docs say the same thing.
// Figures quoted here come from docs/benchmarks.md (MobileNetV2, CPU); keep them in step.
import { FINETUNE_DEFAULT_BUFFER_MEGABYTES } from './finetune/state.js';

export interface LearnerDescription {
  /** what the learner does, one or two sentences */
  summary: string;
  /** what it costs against the default (time per update, what it stores) and what that buys */
  cost: string;
}

export const LEARNER_DESCRIPTIONS: Record<string, LearnerDescription> = {
  analytic: {
    summary:
      "Exact ridge-regression head on the frozen backbone's features: every update gives the model that training on all current samples at once would give, so it forgets nothing by construction. The default.",
    cost: 'Fast: solved in closed form from cached embeddings, with no gradient steps (about 0.7 s for a 100-class model on 2 cores). Caches about 5 KB per image, its embedding.',
  },
  ncm: {
    summary: 'Nearest class mean: each class is the mean of its normalized features, and an image scores its cosine similarity to each mean. The simple baseline.',
    cost: 'The cheapest update (it only adds to per-class sums) and the smallest state, but the lowest accuracy: 0.97× of analytic on Caltech-101, 0.87× on CIFAR-10.',
  },
  replay: {
    summary:
      'A small head trained by gradient descent on the new images plus a few stored exemplars of every class, with distillation so old predictions stay steady. Optionally with a hidden layer.',
    cost: "Slower than analytic: each update runs epochs of training over the new images and the replay buffer (20 exemplars per class by default, see Replay budget), stored with every version. Its accuracy on the benchmarks is within about a point of analytic's, above or below.",
  },
  finetune: {
    summary:
      "Trains the backbone's top layers (its last block and last 1×1 convolution) with the head, so the features themselves adapt: for new looks far from the photos the backbone was trained on, such as drawings.",
    cost:
      "Fine-tunes the backbone's last block on cached activations, then refits an exact ridge head on the tuned features. " +
      'Updates take much longer than with analytic: about 30 s of training per 1,000 new images on 2 cores (analytic: under a second for any update), ' +
      'and it caches about 9 KB per image instead of 5 KB; a replay buffer of these activations ' +
      `(up to ${FINETUNE_DEFAULT_BUFFER_MEGABYTES} MB by default) is kept with each version. ` +
      'Measured: +3.0 points over analytic on synthetic line drawings learned after photos, photos and Caltech-101 unchanged (within a point).',
  },
};

/** The description of a learner id, if there is one. */
export function learnerDescription(id: string): LearnerDescription | undefined {
  return Object.hasOwn(LEARNER_DESCRIPTIONS, id) ? LEARNER_DESCRIPTIONS[id] : undefined;
}

/** The descriptions of `ids` that have one, by id (what the settings result carries). */
export function learnerDescriptionsFor(ids: readonly string[]): Record<string, LearnerDescription> {
  const out: Record<string, LearnerDescription> = {};
  for (const id of ids) {
    const description = learnerDescription(id);
    if (description) out[id] = { ...description };
  }
  return out;
}
