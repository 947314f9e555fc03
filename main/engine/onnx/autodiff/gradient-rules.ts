// Vector-Jacobian products, one rule per ONNX op: given the gradients of a node's outputs, emit
// the nodes that compute the gradients of the inputs that need one. Rules only build nodes; the
// walk over the graph (which nodes, in which order, summing gradients of reused values) is
// reverse-pass.ts. Broadcasting is undone by `context.sumToShape`.
import { attr, type GraphBuilder, type NodeSpec } from '../graph-builder.js';
import { keepsDims, reductionAxes, sliceBounds, type IntConstants, type Shape } from './shapes.js';

export interface GradientContext {
  readonly builder: GraphBuilder;
  readonly constants: IntConstants;
  shapeOf(value: string): Shape;
  /** Sums `gradient` (of shape `from`) down to the shape of `value`, undoing broadcasting. */
  sumToShape(gradient: string, from: Shape, value: string): string;
}

/**
 * Gradients of the node's inputs, '' or undefined where not needed (needs[k] false) or not
 * differentiable. `outputGradients[k]` is undefined when output k does not reach the loss.
 */
export type GradientRule = (
  node: NodeSpec,
  outputGradients: readonly (string | undefined)[],
  needs: readonly boolean[],
  context: GradientContext,
) => readonly (string | undefined)[];

function intAttribute(node: NodeSpec, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.type === 'int' ? a.value : fallback;
}

function floatAttribute(node: NodeSpec, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.type === 'float' ? a.value : fallback;
}

function input(node: NodeSpec, k: number): string {
  const name = node.inputs[k];
  if (!name) throw new Error(`${node.name}: input ${k} is missing`);
  return name;
}

function output(node: NodeSpec): string {
  return node.outputs[0]!;
}

function firstGradient(node: NodeSpec, grads: readonly (string | undefined)[]): string {
  const g = grads[0];
  if (!g) throw new Error(`${node.name}: no gradient for its output`);
  return g;
}

/** Rules for elementwise ops with broadcasting: local gradient per input, then summed to its shape. */
function broadcastingRule(local: (k: number, g: string, node: NodeSpec, b: GraphBuilder) => string): GradientRule {
  return (node, grads, needs, context) => {
    const g = firstGradient(node, grads);
    const from = context.shapeOf(output(node));
    return node.inputs.map((name, k) => (needs[k] ? context.sumToShape(local(k, g, node, context.builder), from, name) : undefined));
  };
}

function unary(local: (g: string, node: NodeSpec, b: GraphBuilder) => string): GradientRule {
  return (node, grads, needs, context) => [needs[0] ? local(firstGradient(node, grads), node, context.builder) : undefined];
}

/** Reshapes a reduced gradient back to keepdims form, then expands it over the reduced axes. */
function expandReduced(node: NodeSpec, g: string, context: GradientContext): string {
  const b = context.builder;
  const x = context.shapeOf(input(node, 0));
  const axes = new Set(reductionAxes(node, x.length, context.constants));
  const kept = x.map((d, i) => (axes.has(i) ? 1 : d));
  const shaped = keepsDims(node) ? g : b.addNode('Reshape', [g, b.int64Vector(kept)], {}, { name: 'grad_unreduce' });
  return b.addNode('Expand', [shaped, b.int64Vector(x)], {}, { name: 'grad_expand' });
}

function reducedCount(node: NodeSpec, context: GradientContext): number {
  const x = context.shapeOf(input(node, 0));
  return reductionAxes(node, x.length, context.constants).reduce((n, axis) => n * x[axis]!, 1);
}

/** Same-size reshaping ops: the gradient is reshaped back to the input's shape. */
const reshapeBack: GradientRule = (node, grads, needs, context) => {
  const b = context.builder;
  const g = firstGradient(node, grads);
  return [needs[0] ? b.addNode('Reshape', [g, b.int64Vector(context.shapeOf(input(node, 0)))], {}, { name: 'grad_reshape' }) : undefined];
};

const softmaxAxis = (node: NodeSpec) => intAttribute(node, 'axis', -1);

export const GRADIENT_RULES: Readonly<Record<string, GradientRule>> = {
  Identity: unary((g) => g),
  Neg: unary((g, _n, b) => b.addNode('Neg', [g], {}, { name: 'grad_neg' })),
  Exp: unary((g, n, b) => b.addNode('Mul', [g, output(n)], {}, { name: 'grad_exp' })),
  Log: unary((g, n, b) => b.addNode('Div', [g, input(n, 0)], {}, { name: 'grad_log' })),
  Sqrt: unary((g, n, b) => b.addNode('Div', [b.addNode('Mul', [g, b.floatScalar(0.5)]), output(n)], {}, { name: 'grad_sqrt' })),
  Relu: unary((g, n, b) => {
    const positive = b.addNode('Greater', [output(n), b.floatScalar(0)]);
    return b.addNode('Where', [positive, g, b.floatScalar(0)], {}, { name: 'grad_relu' });
  }),

  Add: broadcastingRule((_k, g) => g),
  Sum: broadcastingRule((_k, g) => g),
  Sub: broadcastingRule((k, g, _n, b) => (k === 0 ? g : b.addNode('Neg', [g], {}, { name: 'grad_sub' }))),
  Mul: broadcastingRule((k, g, n, b) => b.addNode('Mul', [g, input(n, 1 - k)], {}, { name: 'grad_mul' })),
  Div: broadcastingRule((k, g, n, b) => {
    if (k === 0) return b.addNode('Div', [g, input(n, 1)], {}, { name: 'grad_div' });
    // d(a/b)/db = −(a/b)/b
    const quotient = b.addNode('Div', [output(n), input(n, 1)]);
    return b.addNode('Neg', [b.addNode('Mul', [g, quotient])], {}, { name: 'grad_div' });
  }),

  MatMul: (node, grads, needs, { builder: b }) => {
    const g = firstGradient(node, grads);
    return [
      needs[0] ? b.addNode('Gemm', [g, input(node, 1)], { transB: attr.int(1) }, { name: 'grad_matmul_a' }) : undefined,
      needs[1] ? b.addNode('Gemm', [input(node, 0), g], { transA: attr.int(1) }, { name: 'grad_matmul_b' }) : undefined,
    ];
  },

  // Y = α·op(A)·op(B) + β·C. With G = dY: d op(A) = α·G·op(B)ᵀ, d op(B) = α·op(A)ᵀ·G, and
  // transposing back where the op transposed; each case is one Gemm.
  Gemm: (node, grads, needs, context) => {
    const b = context.builder;
    const g = firstGradient(node, grads);
    const a = input(node, 0);
    const w = input(node, 1);
    const alpha = floatAttribute(node, 'alpha', 1);
    const beta = floatAttribute(node, 'beta', 1);
    const tA = intAttribute(node, 'transA', 0);
    const tB = intAttribute(node, 'transB', 0);
    const gemm = (x: string, y: string, transA: number, transB: number, name: string) =>
      b.addNode('Gemm', [x, y], { alpha: attr.float(alpha), transA: attr.int(transA), transB: attr.int(transB) }, { name });
    const dA = needs[0] ? (tA === 0 ? gemm(g, w, 0, 1 - tB, 'grad_gemm_a') : gemm(w, g, tB, 1, 'grad_gemm_a')) : undefined;
    const dB = needs[1] ? (tB === 0 ? gemm(a, g, 1 - tA, 0, 'grad_gemm_b') : gemm(g, a, 1, tA, 'grad_gemm_b')) : undefined;
    let dC: string | undefined;
    if (needs[2]) {
      const scaled = beta === 1 ? g : b.addNode('Mul', [g, b.floatScalar(beta)]);
      dC = context.sumToShape(scaled, context.shapeOf(output(node)), input(node, 2));
    }
    return [dA, dB, dC];
  },

  // dX = Y ⊙ (G − Σ_axis G ⊙ Y)
  Softmax: unary((g, n, b) => {
    const y = output(n);
    const dot = b.addNode('ReduceSum', [b.addNode('Mul', [g, y]), b.int64Vector([softmaxAxis(n)])], { keepdims: attr.int(1) });
    return b.addNode('Mul', [y, b.addNode('Sub', [g, dot])], {}, { name: 'grad_softmax' });
  }),
  // dX = G − softmax(X) ⊙ Σ_axis G
  LogSoftmax: unary((g, n, b) => {
    const total = b.addNode('ReduceSum', [g, b.int64Vector([softmaxAxis(n)])], { keepdims: attr.int(1) });
    const probabilities = b.addNode('Exp', [output(n)]);
    return b.addNode('Sub', [g, b.addNode('Mul', [probabilities, total])], {}, { name: 'grad_log_softmax' });
  }),

  ReduceSum: (node, grads, needs, context) => [needs[0] ? expandReduced(node, firstGradient(node, grads), context) : undefined],
  ReduceMean: (node, grads, needs, context) => {
    if (!needs[0]) return [undefined];
    const b = context.builder;
    const scaled = b.addNode('Mul', [firstGradient(node, grads), b.floatScalar(1 / reducedCount(node, context))]);
    return [expandReduced(node, scaled, context)];
  },
  // d Σx² = 2x·G
  ReduceSumSquare: (node, grads, needs, context) => {
    if (!needs[0]) return [undefined];
    const b = context.builder;
    const spread = expandReduced(node, firstGradient(node, grads), context);
    return [b.addNode('Mul', [spread, b.addNode('Mul', [input(node, 0), b.floatScalar(2)])], {}, { name: 'grad_sum_square' })];
  },
  // d ‖x‖ = x/‖x‖·G
  ReduceL2: (node, grads, needs, context) => {
    if (!needs[0]) return [undefined];
    const b = context.builder;
    const ratio = b.addNode('Div', [firstGradient(node, grads), output(node)]);
    return [b.addNode('Mul', [expandReduced(node, ratio, context), input(node, 0)], {}, { name: 'grad_l2' })];
  },

  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Flatten: reshapeBack,
  Transpose: (node, grads, needs, context) => {
    if (!needs[0]) return [undefined];
    const rank = context.shapeOf(input(node, 0)).length;
    const perm = node.attributes.perm?.type === 'ints' ? node.attributes.perm.value : Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [context.builder.addNode('Transpose', [firstGradient(node, grads)], { perm: attr.ints(inverse) }, { name: 'grad_transpose' })];
  },
  // The slice's gradient lands in its window of a zero tensor of the input's shape.
  Slice: (node, grads, needs, context) => {
    if (!needs[0]) return [undefined];
    const b = context.builder;
    const x = context.shapeOf(input(node, 0));
    const { starts, ends } = sliceBounds(node, x, context.constants);
    const pads = [...starts, ...x.map((d, i) => d - ends[i]!)];
    return [b.addNode('Pad', [firstGradient(node, grads), b.int64Vector(pads)], {}, { name: 'grad_slice' })];
  },
};

/**
 * Ops whose outputs carry no gradient whatever their inputs (integer, boolean or piecewise-constant
 * results). Any other op without a rule fails the pass when a gradient would have to cross it.
 */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set(['Shape', 'OneHot', 'Greater', 'Less', 'Equal', 'ArgMax', 'Sign', 'Constant']);
