// Train-step graphs for the head contract: one optimizer step per run() (single-step), or a Loop
// of up to K steps per run() that picks each step's batch with Gather (so per-call overhead is
// paid once per K steps). Both are built from the same step fragment:
// forward + loss (head-loss.ts) → gradients (autodiff) → update (optimizers.ts).
import { addGradients } from '../../onnx/autodiff/reverse-pass.js';
import type { Shape } from '../../onnx/autodiff/shapes.js';
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import { parameterShapes, type HeadArchitecture, type OptimizerKind } from '../head-trainer.js';
import { addHeadLoss, type BatchValues, type DistillationValues } from './head-loss.js';
import { addOptimizerUpdate, optimizerInputs, type OptimizerValues } from './optimizers.js';

/** Everything that changes a graph's structure (hyper-parameter values are inputs, not structure). */
export interface TrainGraphSpec {
  readonly architecture: HeadArchitecture;
  readonly optimizer: OptimizerKind;
  readonly batchSize: number;
  /** K of the distillation term, 0 without one. */
  readonly distillationClasses: number;
}

/**
 * Graph input and output names, shared by both variants. Features, labels, weights and teacher
 * logits are the batch (B rows) in the single-step graph and all samples in the Loop graph.
 */
export const TRAIN_GRAPH_NAMES = {
  parameter: (i: number) => `param_${i}`,
  moment: (i: number) => `moment_${i}`,
  newParameter: (i: number) => `new_param_${i}`,
  newMoment: (i: number) => `new_moment_${i}`,
  hyper: (key: string) => `hp_${key}`,
  temperature: 'hp_temperature',
  distillationWeight: 'hp_distillation_weight',
  features: 'features',
  labels: 'labels',
  weights: 'weights',
  teacherLogits: 'teacher_logits',
  /** Single-step: the loss before the update. */
  loss: 'loss',
  /** Loop: steps to run, steps × B batch rows, per-step learning rates, steps taken before the call, per-step losses. */
  tripCount: 'trip_count',
  batches: 'batches',
  learningRates: 'learning_rates',
  stepsBefore: 'steps_before',
  losses: 'losses',
} as const;

const N = TRAIN_GRAPH_NAMES;

function momentShapes(spec: TrainGraphSpec): number[][] {
  const shapes = parameterShapes(spec.architecture);
  return spec.optimizer === 'sgd' ? shapes : [...shapes, ...shapes];
}

interface StepValues {
  parameters: readonly string[];
  moments: readonly string[];
  batch: BatchValues;
  optimizer: OptimizerValues;
  distillation?: DistillationValues;
  knownShapes: ReadonlyMap<string, Shape>;
}

/** Loss of the batch before the update, and the updated parameters and moments. */
function addTrainStep(b: GraphBuilder, spec: TrainGraphSpec, values: StepValues) {
  const loss = addHeadLoss(b, spec.architecture, spec.batchSize, values.parameters, values.batch, values.distillation);
  const gradients = addGradients(b, { loss, wrt: values.parameters, knownShapes: values.knownShapes });
  const update = addOptimizerUpdate(b, spec.optimizer, values.parameters, gradients, values.moments, values.optimizer);
  return { loss, ...update };
}

/** Declares (single-step) or imports (Loop body) the scalar hyper-parameters; returns their values. */
function hyperValues(spec: TrainGraphSpec, declare: (name: string) => string, learningRate: string, step: string) {
  const scalar = (key: keyof OptimizerValues) => (optimizerInputs(spec.optimizer).includes(key) ? declare(N.hyper(key)) : '');
  const optimizer: OptimizerValues = {
    learningRate,
    step,
    weightDecay: scalar('weightDecay'),
    momentum: scalar('momentum'),
    beta1: scalar('beta1'),
    beta2: scalar('beta2'),
    epsilon: scalar('epsilon'),
  };
  const distillation: DistillationValues | undefined =
    spec.distillationClasses > 0
      ? { classCount: spec.distillationClasses, temperature: declare(N.temperature), weight: declare(N.distillationWeight) }
      : undefined;
  return { optimizer, distillation };
}

/** Scalar hyper-parameter input names the graph has (besides learning rate and step). */
export function hyperInputNames(spec: TrainGraphSpec): string[] {
  const names = optimizerInputs(spec.optimizer)
    .filter((key) => key !== 'learningRate' && key !== 'step')
    .map((key) => N.hyper(key));
  if (spec.distillationClasses > 0) names.push(N.temperature, N.distillationWeight);
  return names;
}

/**
 * One step per run(). Inputs: parameters, moments, the batch (features B×D, labels B int32,
 * weights B, teacher logits B×K), hp_learningRate, hp_step (t), the other hyper-parameters.
 * Outputs: new parameters, new moments, loss.
 */
export function buildSingleStepGraph(spec: TrainGraphSpec): GraphBuilder {
  const { inputDim: d } = spec.architecture;
  const B = spec.batchSize;
  const b = new GraphBuilder('keizoku_train_step');
  b.reserveNames(N.loss);
  const parameters = parameterShapes(spec.architecture).map((shape, i) => b.addInput(N.parameter(i), 'float32', shape));
  const moments = momentShapes(spec).map((shape, i) => b.addInput(N.moment(i), 'float32', shape));
  const batch: BatchValues = {
    features: b.addInput(N.features, 'float32', [B, d]),
    labels: b.addInput(N.labels, 'int32', [B]),
    weights: b.addInput(N.weights, 'float32', [B]),
    teacherLogits: spec.distillationClasses > 0 ? b.addInput(N.teacherLogits, 'float32', [B, spec.distillationClasses]) : undefined,
  };
  const learningRate = b.addInput(N.hyper('learningRate'), 'float32', []);
  const step = spec.optimizer === 'sgd' ? '' : b.addInput(N.hyper('step'), 'float32', []);
  const hyper = hyperValues(spec, (name) => b.addInput(name, 'float32', []), learningRate, step);
  const result = addTrainStep(b, spec, { parameters, moments, batch, ...hyper, knownShapes: new Map() });
  addStepOutputs(b, spec, result);
  b.addOutput(b.addNode('Identity', [result.loss], {}, { output: N.loss }), 'float32', []);
  return b;
}

function addStepOutputs(b: GraphBuilder, spec: TrainGraphSpec, result: { parameters: string[]; moments: string[] }): void {
  const shapes = parameterShapes(spec.architecture);
  result.parameters.forEach((value, i) => b.addOutput(b.addNode('Identity', [value], {}, { output: N.newParameter(i) }), 'float32', shapes[i]!));
  const mShapes = momentShapes(spec);
  result.moments.forEach((value, i) => b.addOutput(b.addNode('Identity', [value], {}, { output: N.newMoment(i) }), 'float32', mShapes[i]!));
}

/**
 * Up to K steps per run(): a Loop over trip_count steps. Inputs: parameters, moments, all samples
 * (features N×D, labels N int32, weights N, teacher logits N×K), batches (steps×B int32),
 * learning_rates (steps), steps_before (float, the optimizer's step count at the call), the other
 * hyper-parameters. Outputs: new parameters, new moments, losses (steps).
 */
export function buildLoopGraph(spec: TrainGraphSpec): GraphBuilder {
  const { inputDim: d } = spec.architecture;
  const B = spec.batchSize;
  const K = spec.distillationClasses;
  const outer = new GraphBuilder('keizoku_train_loop');
  const pShapes = parameterShapes(spec.architecture);
  const mShapes = momentShapes(spec);
  const parameters = pShapes.map((shape, i) => outer.addInput(N.parameter(i), 'float32', shape));
  const moments = mShapes.map((shape, i) => outer.addInput(N.moment(i), 'float32', shape));
  outer.addInput(N.features, 'float32', ['samples', d]);
  outer.addInput(N.labels, 'int32', ['samples']);
  outer.addInput(N.weights, 'float32', ['samples']);
  if (K > 0) outer.addInput(N.teacherLogits, 'float32', ['samples', K]);
  const tripCount = outer.addInput(N.tripCount, 'int64', []);
  outer.addInput(N.batches, 'int32', ['steps', B]);
  outer.addInput(N.learningRates, 'float32', ['steps']);
  outer.addInput(N.stepsBefore, 'float32', []);
  for (const name of hyperInputNames(spec)) outer.addInput(name, 'float32', []);

  const body = new GraphBuilder('keizoku_train_loop_body');
  const iteration = body.addInput('iteration', 'int64', []);
  const condition = body.addInput('condition', 'bool', []);
  const carriedParameters = pShapes.map((shape, i) => body.addInput(`${N.parameter(i)}_in`, 'float32', shape));
  const carriedMoments = mShapes.map((shape, i) => body.addInput(`${N.moment(i)}_in`, 'float32', shape));
  const row = body.addNode('Gather', [body.useOuterValue(N.batches), iteration], { axis: attr.int(0) }, { name: 'batch_rows' });
  const pick = (name: string) => body.addNode('Gather', [body.useOuterValue(name), row], { axis: attr.int(0) }, { name: `batch_${name}` });
  const batch: BatchValues = {
    features: pick(N.features),
    labels: pick(N.labels),
    weights: pick(N.weights),
    teacherLogits: K > 0 ? pick(N.teacherLogits) : undefined,
  };
  const learningRate = body.addNode('Gather', [body.useOuterValue(N.learningRates), iteration], { axis: attr.int(0) }, { name: 'learning_rate' });
  const step =
    spec.optimizer === 'sgd'
      ? ''
      : body.addNode('Add', [body.useOuterValue(N.stepsBefore), body.addNode('Add', [body.addNode('Cast', [iteration], { to: attr.int(1) }), body.floatScalar(1)])], {}, { name: 'step' });
  const hyper = hyperValues(spec, (name) => body.useOuterValue(name), learningRate, step);
  // Gathered values have sizes the body cannot infer from the (dynamic) outer inputs.
  const knownShapes = new Map<string, Shape>([
    [batch.features, [B, d]], [batch.labels, [B]], [batch.weights, [B]], [learningRate, []],
    ...(batch.teacherLogits ? [[batch.teacherLogits, [B, K]] as [string, Shape]] : []),
    ...hyperInputNames(spec).map((name) => [name, []] as [string, Shape]),
  ]);
  if (step) knownShapes.set(step, []);
  const result = addTrainStep(body, spec, { parameters: carriedParameters, moments: carriedMoments, batch, ...hyper, knownShapes });
  body.addOutput(body.addNode('Identity', [condition], {}, { output: 'condition_out' }), 'bool', []);
  result.parameters.forEach((value, i) => body.addOutput(body.addNode('Identity', [value], {}, { output: `${N.parameter(i)}_out` }), 'float32', pShapes[i]!));
  result.moments.forEach((value, i) => body.addOutput(body.addNode('Identity', [value], {}, { output: `${N.moment(i)}_out` }), 'float32', mShapes[i]!));
  body.addOutput(body.addNode('Identity', [result.loss], {}, { output: 'step_loss' }), 'float32', []);

  const outputs = [...pShapes.map((_, i) => N.newParameter(i)), ...mShapes.map((_, i) => N.newMoment(i)), N.losses];
  outer.addMultiOutputNode('Loop', [tripCount, '', ...parameters, ...moments], outputs.length, { body: attr.graph(body) }, { outputs });
  pShapes.forEach((shape, i) => outer.addOutput(N.newParameter(i), 'float32', shape));
  mShapes.forEach((shape, i) => outer.addOutput(N.newMoment(i), 'float32', shape));
  outer.addOutput(N.losses, 'float32', ['steps']);
  return outer;
}
