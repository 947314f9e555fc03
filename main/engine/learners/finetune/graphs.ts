// The finetune learner's ONNX graphs, built from the backbone top's own nodes:
// - scoring: cut activations → the top's features (the head is applied in JS, as analytic does);
// - one training step: top → L2-normalized features → scaled linear head → softmax cross-entropy,
//   gradients by the project's reverse-mode autodiff, then an Adam update of every parameter.
// Weights and Adam moments go in and come out as graph values, so one session serves every step.
import { addGradients } from '../../onnx/autodiff/reverse-pass.js';
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import { addOptimizerUpdate } from '../../training/graph/optimizers.js';
import { addTopForward, type TopNetwork } from './top-network.js';

export const FINETUNE_GRAPH_NAMES = {
  activations: 'activations',
  features: 'features',
  /** One-hot rows; an all-zero row is padding and adds nothing to the loss. */
  targets: 'targets',
  /** 1 / (real rows in the batch), so a padded last batch averages over its real rows. */
  inverseCount: 'inverse_count',
  learningRate: 'learning_rate',
  /** Adam's t, counted from 1. */
  step: 'step',
  /** Feature distillation on replayed old rows: the previous top's unit features, a 0/1 weight per
   * row (1 = an old, replayed row; new rows are free to move), and the term's weight β. */
  previousFeatures: 'previous_features',
  distillationRows: 'distillation_rows',
  distillationWeight: 'distillation_weight',
  loss: 'loss',
  parameter: (i: number) => `param_${i}`,
  moment: (i: number) => `moment_${i}`,
  newParameter: (i: number) => `new_param_${i}`,
  newMoment: (i: number) => `new_moment_${i}`,
} as const;

const N = FINETUNE_GRAPH_NAMES;

/** What changes a training graph's structure; everything else is a graph input. */
export interface FinetuneGraphSpec {
  readonly batchSize: number;
  readonly classCount: number;
  /** Logits are this times the head's output; the head starts as a ridge fit to one-hot targets. */
  readonly logitScale: number;
}

/** Shapes of the trained parameters: the top's, then the head's weights [D, K] and bias [K]. */
export function trainedShapes(top: TopNetwork, classCount: number): number[][] {
  return [...top.parameters.map((p) => [...p.dims]), [top.featureDim, classCount], [classCount]];
}

/** activations [N, C·H·W] → features [N, featureDim], with the network's own weights inside. */
export function buildFeaturesGraph(top: TopNetwork): Uint8Array {
  const b = new GraphBuilder('keizoku-finetune-features');
  const [c, h, w] = top.cutShape;
  b.addInput(N.activations, 'float32', ['N', c * h * w]);
  const features = addTopForward(b, top, N.activations);
  b.addNode('Identity', [features], {}, { output: N.features });
  b.addOutput(N.features, 'float32', ['N', top.featureDim]);
  return b.toBytes();
}

/** One Adam step on a batch; outputs the batch's loss before the step, new parameters and moments. */
export function buildTrainStepGraph(top: TopNetwork, spec: FinetuneGraphSpec): Uint8Array {
  const b = new GraphBuilder('keizoku-finetune-step');
  const [c, h, w] = top.cutShape;
  const shapes = trainedShapes(top, spec.classCount);
  const activations = b.addInput(N.activations, 'float32', [spec.batchSize, c * h * w]);
  const targets = b.addInput(N.targets, 'float32', [spec.batchSize, spec.classCount]);
  const inverseCount = b.addInput(N.inverseCount, 'float32', []);
  const learningRate = b.addInput(N.learningRate, 'float32', []);
  const step = b.addInput(N.step, 'float32', []);
  const previousFeatures = b.addInput(N.previousFeatures, 'float32', [spec.batchSize, top.featureDim]);
  const distillationRows = b.addInput(N.distillationRows, 'float32', [spec.batchSize, 1]);
  const distillationWeight = b.addInput(N.distillationWeight, 'float32', []);
  const parameters = shapes.map((shape, i) => b.addInput(N.parameter(i), 'float32', shape));
  const moments = [...shapes, ...shapes].map((shape, i) => b.addInput(N.moment(i), 'float32', shape));

  const topParameters = parameters.slice(0, top.parameters.length);
  const [headWeights, headBias] = parameters.slice(top.parameters.length) as [string, string];
  const features = addTopForward(b, top, activations, topParameters);
  // Same direction-only features as the analytic head (l2-normalize plugin), kept off zero.
  const squared = b.addNode('ReduceSumSquare', [features], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const norm = b.addNode('Sqrt', [b.addNode('Add', [squared, b.floatScalar(1e-12)])]);
  const unit = b.addNode('Div', [features, norm], {}, { name: 'unit_features' });
  const head = b.addNode('Add', [b.addNode('MatMul', [unit, headWeights]), headBias]);
  const logits = b.addNode('Mul', [head, b.floatScalar(spec.logitScale)], {}, { name: 'logits' });
  const logProbabilities = b.addNode('LogSoftmax', [logits], { axis: attr.int(-1) });
  const total = b.addNode('ReduceSum', [b.addNode('Mul', [targets, logProbabilities])], { keepdims: attr.int(0) });
  const crossEntropy = b.addNode('Neg', [total]);
  // β · Σ over old rows of ‖u − u_previous‖²: keeps what earlier versions learned where the top is
  // shared, without holding any prediction on the new rows.
  const drift = b.addNode('Sub', [unit, previousFeatures]);
  const driftPerRow = b.addNode('ReduceSumSquare', [drift], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const distillation = b.addNode('ReduceSum', [b.addNode('Mul', [driftPerRow, distillationRows])], { keepdims: attr.int(0) });
  const objective = b.addNode('Add', [crossEntropy, b.addNode('Mul', [distillation, distillationWeight])]);
  const loss = b.addNode('Mul', [objective, inverseCount], {}, { output: N.loss });

  const gradients = addGradients(b, { loss, wrt: parameters });
  const update = addOptimizerUpdate(b, 'adam', parameters, gradients, moments, {
    learningRate,
    step,
    weightDecay: b.floatScalar(0),
    momentum: '',
    beta1: b.floatScalar(0.9),
    beta2: b.floatScalar(0.999),
    epsilon: b.floatScalar(1e-8),
  });
  b.addOutput(loss, 'float32', []);
  update.parameters.forEach((value, i) => {
    b.addNode('Identity', [value], {}, { output: N.newParameter(i) });
    b.addOutput(N.newParameter(i), 'float32', shapes[i]!);
  });
  update.moments.forEach((value, i) => {
    b.addNode('Identity', [value], {}, { output: N.newMoment(i) });
    b.addOutput(N.newMoment(i), 'float32', shapes[i % shapes.length]!);
  });
  return b.toBytes();
}
