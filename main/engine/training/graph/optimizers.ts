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
  // Bias corrections folded into scalars, shared by every parameter (as PyTorch computes it):
  // lr·m̂/(√v̂ + ε) = α·m/(√v + ε′) with α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ) and ε′ = ε·√(1−β₂ᵗ), so no
  // full-size tensor is divided by a correction (three fewer elementwise passes per parameter).
  const c1 = oneMinus(b.addNode('Pow', [h.beta1, h.step]));
  const rootC2 = b.addNode('Sqrt', [oneMinus(b.addNode('Pow', [h.beta2, h.step]))]);
  const alpha = b.addNode('Div', [mul(h.learningRate, rootC2), c1]);
  const epsilon = mul(h.epsilon, rootC2);
  const decoupled = kind === 'adamw';
  // Decoupled decay: θ·(1 − lr·λ), one scalar per step.
  const shrink = decoupled ? oneMinus(mul(h.learningRate, h.weightDecay)) : '';
  const next = parameters.map((theta, p) => {
    const g = decoupled ? gradients[p]! : add(gradients[p]!, mul(h.weightDecay, theta));
    const m = add(mul(h.beta1, moments[p]!), mul(oneMinus(h.beta1), g));
    const v = add(mul(h.beta2, moments[count + p]!), mul(oneMinus(h.beta2), mul(g, g)));
    const step = b.addNode('Div', [mul(alpha, m), add(b.addNode('Sqrt', [v]), epsilon)]);
    return { theta: sub(decoupled ? mul(theta, shrink) : theta, step), m, v };
  });
  return { parameters: next.map((n) => n.theta), moments: [...next.map((n) => n.m), ...next.map((n) => n.v)] };
}
