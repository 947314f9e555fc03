// Bias correction by class-balanced fine-tuning (EEIL, Castro et al. 2018): after the main pass,
// a short pass at a low learning rate over the refreshed buffer alone, where every class has the
// same number of exemplars, evens out the preference for new classes that the imbalanced main
// pass built up. The pass keeps the other plugins' loss terms (distillation). A training-loop
// plugin of the replay learner.
import { trainingSamples, trainPass } from '../replay/training-pass.js';
import type { ReplayTrainingPlugin } from '../replay/training-plugin.js';

export const BALANCED_FINETUNE_ID = 'balanced-finetune';

export const balancedFinetune: ReplayTrainingPlugin = {
  id: BALANCED_FINETUNE_ID,
  async afterTraining(head, context) {
    const { buffer, hyperParameters: h, pass } = context;
    if (context.oldClasses.length === 0 || buffer.count === 0 || h.finetuneEpochs === 0) return head;
    const { samples, loss } = await context.withLossTerms(
      trainingSamples({ features: buffer.features, labels: buffer.labels, count: buffer.count, dim: buffer.dim }, context.classNames, true),
    );
    return trainPass(
      context.trainer, context.architecture, head.parameters, head.state, samples, loss,
      { ...pass, epochs: h.finetuneEpochs, seed: pass.seed + 1, optimizer: { ...pass.optimizer, learningRate: h.finetuneLearningRate } },
      context.signal,
    );
  },
};
