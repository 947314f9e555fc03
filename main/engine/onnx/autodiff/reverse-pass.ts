// Reverse-mode differentiation over a GraphBuilder's node list: appends to the same builder the
// nodes that compute d(loss)/d(value) for each requested value. The walk finds the nodes between
// the requested values and the loss, visits them last to first, asks each op's rule
// (gradient-rules.ts) for its inputs' gradients, and sums the gradients of values used more than once.
import type { GraphBuilder } from '../graph-builder.js';
import { GRADIENT_RULES, NON_DIFFERENTIABLE, type GradientContext } from './gradient-rules.js';
import { broadcastShapes, inferShapes, intConstants, type Shape } from './shapes.js';

export interface GradientRequest {
  /** A scalar (shape []) value of the builder. */
  readonly loss: string;
  /** Values to differentiate with respect to (graph inputs, initializers or any intermediate). */
  readonly wrt: readonly string[];
  /** Shapes of values the builder cannot see itself, e.g. outer-scope values of a Loop body. */
  readonly knownShapes?: ReadonlyMap<string, Shape>;
}

/** Adds the backward nodes; returns the gradient value of each `wrt` entry, in order. */
export function addGradients(builder: GraphBuilder, request: GradientRequest): string[] {
  const forward = [...builder.nodes];
  const shapes = inferShapes(builder, request.knownShapes);
  const shapeOf = (value: string): Shape => {
    const shape = shapes.get(value);
    if (!shape) throw new Error(`autodiff: shape of '${value}' is unknown`);
    return shape;
  };
  if (shapeOf(request.loss).length !== 0) throw new Error(`autodiff: loss '${request.loss}' must be a scalar`);

  // Values that depend on a wrt value...
  const dependsOnWrt = new Set(request.wrt);
  for (const node of forward) {
    if (NON_DIFFERENTIABLE.has(node.opType)) continue;
    if (node.inputs.some((name) => dependsOnWrt.has(name))) for (const out of node.outputs) dependsOnWrt.add(out);
  }
  // ...and that the loss depends on: only those carry gradients.
  const reachesLoss = new Set([request.loss]);
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i]!;
    if (node.outputs.some((name) => reachesLoss.has(name))) for (const name of node.inputs) if (name) reachesLoss.add(name);
  }
  const active = (name: string) => name !== '' && dependsOnWrt.has(name) && reachesLoss.has(name);

  const constants = intConstants(builder);
  const context: GradientContext = {
    builder,
    constants,
    shapeOf,
    sumToShape: (gradient, from, value) => sumToShape(builder, gradient, from, shapeOf(value)),
  };

  const partials = new Map<string, string[]>();
  const addPartial = (value: string, gradient: string) => {
    const list = partials.get(value);
    if (list) list.push(gradient);
    else partials.set(value, [gradient]);
  };
  const total = (value: string): string | undefined => {
    const list = partials.get(value);
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) partials.set(value, [builder.addNode('Sum', list, {}, { name: 'grad_accumulate' })]);
    return partials.get(value)![0];
  };

  addPartial(request.loss, builder.floatScalar(1));
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i]!;
    if (!node.outputs.some(active)) continue;
    const needs = node.inputs.map(active);
    if (!needs.some(Boolean)) continue;
    const rule = GRADIENT_RULES[node.opType];
    if (!rule) throw new Error(`autodiff: no gradient rule for ${node.opType} (node ${node.name})`);
    const outputGradients = node.outputs.map(total);
    if (outputGradients.every((g) => g === undefined)) continue;
    const inputGradients = rule(node, outputGradients, needs, context);
    node.inputs.forEach((name, k) => {
      const gradient = inputGradients[k];
      if (needs[k] && gradient) addPartial(name, gradient);
    });
  }

  return request.wrt.map((value) => {
    const gradient = total(value);
    if (gradient) return gradient;
    // The loss does not depend on this value: its gradient is zero.
    return builder.addNode('Expand', [builder.floatScalar(0), builder.int64Vector(shapeOf(value))], {}, { name: 'grad_zero' });
  });
}

/** ReduceSum over the axes that broadcasting from `to` to `from` created, then Reshape to `to`. */
function sumToShape(builder: GraphBuilder, gradient: string, from: Shape, to: Shape): string {
  if (from.length === to.length && from.every((d, i) => d === to[i])) return gradient;
  const check = broadcastShapes(from, to);
  if (check.length !== from.length || check.some((d, i) => d !== from[i])) throw new Error(`autodiff: [${to}] does not broadcast to [${from}]`);
  const lead = from.length - to.length;
  const axes: number[] = [];
  from.forEach((d, i) => {
    if (i < lead || (to[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length > 0 ? builder.addNode('ReduceSum', [gradient, builder.int64Vector(axes)], { keepdims: { type: 'int', value: 1 } }, { name: 'grad_unbroadcast' }) : gradient;
  return builder.addNode('Reshape', [summed, builder.int64Vector(to)], {}, { name: 'grad_unbroadcast' });
}
