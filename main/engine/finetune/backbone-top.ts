// The trainable top of a split backbone, as the learner contract hands it to a learner that
// fine-tunes: the pretrained weights it starts from.
import { readFileSync } from 'node:fs';
import type { ResolvedBackbone } from '../backbones/resolve.js';
import type { BackboneTop } from '../learners/learner.js';

/** The top model of a backbone resolved for fine-tuning; undefined for an unsplit backbone. */
export function loadBackboneTop(backbone: ResolvedBackbone): BackboneTop | undefined {
  const split = backbone.fineTuning;
  if (!split) return undefined;
  return {
    model: new Uint8Array(readFileSync(split.topPath)),
    input: split.topInput,
    output: split.topOutput,
    cutShape: split.cutShape,
    featureDim: split.topFeatureDim,
  };
}
