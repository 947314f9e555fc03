// Optimizer updates as graph fragments (PyTorch conventions, see head-trainer.ts), independent of
// the loss: parameters, their gradients and moments in, new parameters and moments out.
import type { GraphBuilder } from '../../onnx/graph-builder.js';
import type { OptimizerKind } from '../head-trainer.js';

/** Scalar hyper-parameters as graph values; which ones an optimizer reads depends on its kind. */
export interface OptimizerValues {
  readonly learningRate: string;
  /** t of this step (counted from 1), float. */
  readonly step: string;
  readonly weightDecay: string;
  readonly momentum: string;
  readonly beta1: string;
  readonly beta2: string;
  readonly epsilon: string;
}

/** Names of the hyper-parameter inputs each optimizer needs. */
export function optimizerInputs(kind: OptimizerKind): (keyof OptimizerValues)[] {
  return kind === 'sgd' ? ['learningRate', 'weightDecay', 'momentum'] : ['learningRate', 'step', 'weightDecay', 'beta1', 'beta2', 'epsilon'];
}

export interface OptimizerUpdate {
  readonly parameters: string[];
  /** Same layout as OptimizerState.moments: sgd velocities; adam first then second moments. */
  readonly moments: string[];
}

export function addOptimizerUpdate(
  b: GraphBuilder,
  kind: OptimizerKind,
  parameters: readonly string[],
  gradients: readonly string[],
  moments: readonly string[],
  h: OptimizerValues,
): OptimizerUpdate {
  const mul = (x: string, y: string) => b.addNode('Mul', [x, y]);
  const add = (x: string, y: string) => b.addNode('Add', [x, y]);
  const sub = (x: string, y: string) => b.addNode('Sub', [x, y]);
  const count = parameters.length;
  if (kind === 'sgd') {
    const next = parameters.map((theta, p) => {
      const g = add(gradients[p]!, mul(h.weightDecay, theta));
      const v = add(mul(h.momentum, moments[p]!), g);
      return { theta: sub(theta, mul(h.learningRate, v)), v };
    });
    return { parameters: next.map((n) => n.theta), moments: next.map((n) => n.v) };
  }
  const one = b.floatScalar(1);
  const oneMinus = (x: string) => sub(one, x);
  // Bias corrections 1 − βᵗ, shared by every parameter.
  const c1 = oneMinus(b.addNode('Pow', [h.beta1, h.step]));
  const c2 = oneMinus(b.addNode('Pow', [h.beta2, h.step]));
  const decoupled = kind === 'adamw';
  const next = parameters.map((theta, p) => {
    const g = decoupled ? gradients[p]! : add(gradients[p]!, mul(h.weightDecay, theta));
    const m = add(mul(h.beta1, moments[p]!), mul(oneMinus(h.beta1), g));
    const v = add(mul(h.beta2, moments[count + p]!), mul(oneMinus(h.beta2), mul(g, g)));
    const denominator = add(b.addNode('Sqrt', [b.addNode('Div', [v, c2])]), h.epsilon);
    let step = b.addNode('Div', [b.addNode('Div', [m, c1]), denominator]);
    if (decoupled) step = add(step, mul(h.weightDecay, theta));
    return { theta: sub(theta, mul(h.learningRate, step)), m, v };
  });
  return { parameters: next.map((n) => n.theta), moments: [...next.map((n) => n.m), ...next.map((n) => n.v)] };
}
