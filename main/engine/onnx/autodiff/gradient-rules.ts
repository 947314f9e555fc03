// Vector-Jacobian products, one rule per ONNX op: given the gradients of a node's outputs, emit
// the nodes that compute the gradients of the inputs that need one. Rules only build nodes; the
// walk over the graph (which nodes, in which order, summing gradients of reused values) is
// reverse-pass.ts. Broadcasting is undone by `context.sumToShape`.
import { attr, type Attributes, type GraphBuilder, type NodeSpec } from '../graph-builder.js';
import { convGeometry, keepsDims, padAmounts, reductionAxes, sliceBounds, type IntConstants, type Shape } from './shapes.js';

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

/**
 * Y = Conv(X, W, B) over NCHW, X [N, C, H, W], W [M, C/g, kh, kw], g groups, G = dY [N, M, Ho, Wo].
 *
 * dX is the transposed convolution of G with the same weights, group, strides, pads and
 * dilations; output_padding restores the padded input rows/columns that no window reached.
 *
 * dW[m, c, a, b] = Σ_n Σ_ij G[n, m, i, j] · Xpad[n, k·C/g + c, i·s + a·d, j·s + b·d] (k = m's group)
 * is itself a convolution in which the batch N plays the channels: X is rearranged to
 * [C/g, g·N, H, W] (channel k·N + n holds X[n, k·C/g + c]), G to weights [M, N, Ho, Wo], and a
 * Conv with the same group, pads, strides = d and dilations = s gives [C/g, M, kh', kw'];
 * kh' exceeds kh by the remainder rows, which are cut off before transposing to [M, C/g, kh, kw].
 * For group 1 the rearrangement is a single Transpose; for depthwise (g = C) it puts every
 * (channel, image) pair in its own group, so each output channel only correlates with its own input.
 *
 * dB = Σ over N, H, W of G.
 */
const conv: GradientRule = (node, grads, needs, context) => {
  const b = context.builder;
  const g = firstGradient(node, grads);
  const x = input(node, 0);
  const w = input(node, 1);
  const [n, c, h, width] = context.shapeOf(x) as [number, number, number, number];
  const [m, perGroup, kh, kw] = context.shapeOf(w) as [number, number, number, number];
  const geometry = convGeometry(node, [n, c, h, width], [m, perGroup, kh, kw]);
  const { group, pads, strides, dilations, remainder } = geometry;
  const swapBatchAndChannels = { perm: attr.ints([1, 0, 2, 3]) };

  // Pointwise (1×1, stride 1, no padding, one group): both gradients are plain matrix products
  // over the N·H·W positions, one GEMM each instead of a convolution per input channel.
  const pointwise = kh === 1 && kw === 1 && group === 1 && [...strides, ...dilations].every((v) => v === 1) && pads.every((p) => p === 0);
  if (pointwise) {
    const positions = n * h * width;
    const byChannel = (value: string, channels: number) =>
      b.addNode('Reshape', [b.addNode('Transpose', [value], swapBatchAndChannels), b.int64Vector([channels, positions])]);
    const weights = b.addNode('Reshape', [w, b.int64Vector([m, c])]);
    const dX = needs[0]
      ? b.addNode('Reshape', [b.addNode('MatMul', [b.addNode('Transpose', [weights]), b.addNode('Reshape', [g, b.int64Vector([n, m, h * width])])]), b.int64Vector([n, c, h, width])], {}, { name: 'grad_conv_x' })
      : undefined;
    const dW = needs[1]
      ? b.addNode('Reshape', [b.addNode('Gemm', [byChannel(g, m), byChannel(x, c)], { transB: attr.int(1) }), b.int64Vector([m, c, 1, 1])], {}, { name: 'grad_conv_w' })
      : undefined;
    const dB = needs[2] ? b.addNode('ReduceSum', [g, b.int64Vector([0, 2, 3])], { keepdims: attr.int(0) }, { name: 'grad_conv_b' }) : undefined;
    return [dX, dW, dB];
  }

  let dX: string | undefined;
  if (needs[0]) {
    const outputPadding: Attributes = remainder.some((r) => r > 0) ? { output_padding: attr.ints(remainder) } : {};
    dX = b.addNode('ConvTranspose', [g, w], {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints(strides),
      dilations: attr.ints(dilations),
      pads: attr.ints(pads),
      group: attr.int(group),
      ...outputPadding,
    }, { name: 'grad_conv_x' });
  }

  let dW: string | undefined;
  if (needs[1]) {
    const images =
      group === 1
        ? b.addNode('Transpose', [x], swapBatchAndChannels)
        : b.addNode('Reshape', [
            b.addNode('Transpose', [b.addNode('Reshape', [x, b.int64Vector([n, group, perGroup, h, width])])], { perm: attr.ints([2, 1, 0, 3, 4]) }),
            b.int64Vector([perGroup, group * n, h, width]),
          ]);
    const kernels = b.addNode('Transpose', [g], swapBatchAndChannels);
    let correlation = b.addNode('Conv', [images, kernels], {
      kernel_shape: attr.ints(geometry.out),
      strides: attr.ints(dilations),
      dilations: attr.ints(strides),
      pads: attr.ints(pads),
      group: attr.int(group),
    });
    // kh' = kh + ⌊remainder / d⌋: the windows past the kernel's extent are cut off.
    if (remainder.some((r, i) => r >= dilations[i]!)) {
      correlation = b.addNode('Slice', [correlation, b.int64Vector([0, 0]), b.int64Vector([kh, kw]), b.int64Vector([2, 3])]);
    }
    dW = b.addNode('Transpose', [correlation], swapBatchAndChannels, { name: 'grad_conv_w' });
  }

  const dB = needs[2] ? b.addNode('ReduceSum', [g, b.int64Vector([0, 2, 3])], { keepdims: attr.int(0) }, { name: 'grad_conv_b' }) : undefined;
  return [dX, dW, dB];
};

/** A Clip bound: its input (opset 11+), its attribute (before), or undefined where unbounded. */
function clipBound(node: NodeSpec, k: 1 | 2, b: GraphBuilder): string | undefined {
  const fromInput = node.inputs[k];
  if (fromInput) return fromInput;
  const a = node.attributes[k === 1 ? 'min' : 'max'];
  return a?.type === 'float' ? b.floatScalar(a.value) : undefined;
}

/**
 * Y = min(max(X, lo), hi): G passes where lo < X < hi (strictly, so ReLU6 has zero gradient at 0
 * and 6, as in the usual training frameworks). A bound that is itself differentiated gets the
 * sum of G where X is clipped to it. Assumes lo ≤ hi.
 */
const clip: GradientRule = (node, grads, needs, context) => {
  const b = context.builder;
  const g = firstGradient(node, grads);
  const x = input(node, 0);
  const lo = clipBound(node, 1, b);
  const hi = clipBound(node, 2, b);
  const zero = b.floatScalar(0);
  let dX: string | undefined;
  if (needs[0]) {
    const aboveLo = lo ? b.addNode('Greater', [x, lo]) : undefined;
    const belowHi = hi ? b.addNode('Less', [x, hi]) : undefined;
    const inside = aboveLo && belowHi ? b.addNode('And', [aboveLo, belowHi]) : (aboveLo ?? belowHi);
    dX = inside ? b.addNode('Where', [inside, g, zero], {}, { name: 'grad_clip' }) : g;
  }
  const from = context.shapeOf(output(node));
  const atBound = (bound: string, compare: 'Less' | 'Greater') =>
    context.sumToShape(b.addNode('Where', [b.addNode(compare, [x, bound]), g, zero], {}, { name: 'grad_clip_bound' }), from, bound);
  return [dX, needs[1] && lo ? atBound(lo, 'Less') : undefined, needs[2] && hi ? atBound(hi, 'Greater') : undefined];
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

  Conv: conv,
  Clip: clip,
  // Each output cell is the mean of its H·W inputs.
  GlobalAveragePool: (node, grads, needs, context) => {
    if (!needs[0]) return [undefined];
    const b = context.builder;
    const x = context.shapeOf(input(node, 0));
    const cells = x.slice(2).reduce((a, d) => a * d, 1);
    const scaled = b.addNode('Mul', [firstGradient(node, grads), b.floatScalar(1 / cells)]);
    return [b.addNode('Expand', [scaled, b.int64Vector(x)], {}, { name: 'grad_global_average_pool' })];
  },
  // Constant padding: the input's gradient is the unpadded window of G; the padding value gets none here.
  Pad: (node, grads, needs, context) => {
    if (!needs[0]) return [undefined];
    const mode = node.attributes.mode?.type === 'string' ? node.attributes.mode.value : 'constant';
    if (mode !== 'constant') throw new Error(`autodiff: no gradient rule for Pad mode '${mode}' (node ${node.name})`);
    if (needs[2]) throw new Error(`autodiff: no gradient for a Pad's constant value (node ${node.name})`);
    const b = context.builder;
    const x = context.shapeOf(input(node, 0));
    const { begins, ends } = padAmounts(node, x.length, context.constants);
    if ([...begins, ...ends].some((p) => p < 0)) throw new Error(`autodiff: no gradient rule for cropping (negative) Pad (node ${node.name})`);
    const stops = x.map((d, i) => begins[i]! + d);
    return [b.addNode('Slice', [firstGradient(node, grads), b.int64Vector(begins), b.int64Vector(stops)], {}, { name: 'grad_pad' })];
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
