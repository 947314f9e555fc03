// Bias correction by weight aligning (Zhao et al. 2020, "Maintaining discrimination and
// fairness"): training on many new samples and few exemplars leaves new-class output rows
// longer than old ones, so new classes win too often; rescaling the new rows to the old rows'
// mean length removes most of that bias. A training-loop plugin of the replay learner.
import { meanRowNorm, outputIndex, outputInputDim } from '../replay/head.js';
import type { ReplayTrainingPlugin } from '../replay/training-plugin.js';

export const WEIGHT_ALIGNING_ID = 'weight-aligning';

export const weightAligning: ReplayTrainingPlugin = {
  id: WEIGHT_ALIGNING_ID,
  async afterTraining(head, { architecture, oldClasses, newClasses }) {
    if (oldClasses.length === 0 || newClasses.length === 0) return head;
    const newNorm = meanRowNorm(head.parameters, architecture, newClasses);
    if (newNorm === 0) return head;
    const gamma = meanRowNorm(head.parameters, architecture, oldClasses) / newNorm;
    const o = outputIndex(architecture);
    const width = outputInputDim(architecture);
    const parameters = head.parameters.map((p) => Float32Array.from(p));
    // Weights only, as in the paper (its head has no bias): scaling a bias of either sign would
    // shift, not rescale, the new classes' scores.
    for (const c of newClasses) for (let j = 0; j < width; j++) parameters[o]![c * width + j]! *= gamma;
    return { parameters, state: head.state };
  },
};
