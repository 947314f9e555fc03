// Static shape inference over a GraphBuilder's node list, for the ops the autodiff handles and the
// non-differentiable ops that feed them. Gradient rules need exact shapes to undo broadcasting
// (ReduceSum to the input's shape) and to expand reductions back, and the training graphs have
// fixed sizes (one session per batch size), so every shape here is a list of numbers.
import type { GraphBuilder, NodeSpec } from '../graph-builder.js';

export type Shape = readonly number[];

/** Values of int64 initializers (axes, shapes, starts), by name. */
export type IntConstants = ReadonlyMap<string, readonly number[]>;

type ShapeRule = (node: NodeSpec, inputs: readonly (Shape | undefined)[], constants: IntConstants) => Shape[] | undefined;

export function intConstants(builder: GraphBuilder): Map<string, number[]> {
  const constants = new Map<string, number[]>();
  for (const init of builder.initializers) {
    if (init.elementType === 'int64') constants.set(init.name, Array.from(init.data as BigInt64Array, Number));
  }
  return constants;
}

/** numpy-style broadcast of two shapes. */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Axes a reduction node reduces over (from its attribute or its constant second input), normalized. */
export function reductionAxes(node: NodeSpec, rank: number, constants: IntConstants): number[] {
  const attribute = node.attributes.axes;
  const raw = attribute?.type === 'ints' ? attribute.value : node.inputs[1] ? constants.get(node.inputs[1]) : undefined;
  if (node.inputs[1] && !raw) throw new Error(`${node.name}: reduction axes must be a constant`);
  const axes = raw && raw.length > 0 ? raw : Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => (a < 0 ? a + rank : a));
}

export function keepsDims(node: NodeSpec): boolean {
  const keep = node.attributes.keepdims;
  return keep?.type === 'int' ? keep.value !== 0 : true;
}

function intAttribute(node: NodeSpec, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.type === 'int' ? a.value : fallback;
}

/** A 2-D convolution's window geometry, with auto_pad resolved to explicit pads. */
export interface ConvGeometry {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** [top, left, bottom, right], as ONNX orders them. */
  readonly pads: readonly [number, number, number, number];
  readonly group: number;
  /** Output height and width. */
  readonly out: readonly [number, number];
  /**
   * Padded input rows/columns past the last window (each < stride): they get no gradient, and the
   * backward convolutions have to account for them (ConvTranspose output_padding, a Slice of dW).
   */
  readonly remainder: readonly [number, number];
}

function intsAttribute(node: NodeSpec, name: string, fallback: readonly number[]): readonly number[] {
  const a = node.attributes[name];
  return a?.type === 'ints' ? a.value : fallback;
}

/** Geometry of a Conv node over NCHW input `x` with weights `w` ([M, C/group, kh, kw]). */
export function convGeometry(node: NodeSpec, x: Shape, w: Shape): ConvGeometry {
  if (x.length !== 4 || w.length !== 4) throw new Error(`${node.name}: only 2-D convolutions (4-D NCHW input and weights) are supported, got [${x}] and [${w}]`);
  const group = intAttribute(node, 'group', 1);
  if (x[1] !== w[1]! * group || w[0]! % group !== 0) throw new Error(`${node.name}: input [${x}] and weights [${w}] do not match group ${group}`);
  const kernel = [w[2]!, w[3]!] as const;
  const declared = intsAttribute(node, 'kernel_shape', kernel);
  if (declared[0] !== kernel[0] || declared[1] !== kernel[1]) throw new Error(`${node.name}: kernel_shape [${declared}] differs from the weights [${w}]`);
  const strides = intsAttribute(node, 'strides', [1, 1]);
  const dilations = intsAttribute(node, 'dilations', [1, 1]);
  const autoPad = node.attributes.auto_pad?.type === 'string' ? node.attributes.auto_pad.value : 'NOTSET';
  const pads = [...intsAttribute(node, 'pads', [0, 0, 0, 0])];
  const out: number[] = [];
  const remainder: number[] = [];
  for (const i of [0, 1]) {
    const size = x[2 + i]!;
    const stride = strides[i]!;
    const span = (kernel[i]! - 1) * dilations[i]! + 1;
    if (autoPad === 'VALID') {
      pads[i] = 0;
      pads[2 + i] = 0;
    } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      // ONNX SAME: output ceil(in/stride); the odd padding cell goes to the end (UPPER) or start (LOWER).
      const total = Math.max((Math.ceil(size / stride) - 1) * stride + span - size, 0);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[2 + i] = total - pads[i]!;
    } else if (autoPad !== 'NOTSET') {
      throw new Error(`${node.name}: unknown auto_pad '${autoPad}'`);
    }
    const padded = size + pads[i]! + pads[2 + i]!;
    if (padded < span) throw new Error(`${node.name}: window ${span} is larger than the padded input ${padded}`);
    out.push(Math.floor((padded - span) / stride) + 1);
    remainder.push((padded - span) % stride);
  }
  return {
    kernel,
    strides: [strides[0]!, strides[1]!],
    dilations: [dilations[0]!, dilations[1]!],
    pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!],
    group,
    out: [out[0]!, out[1]!],
    remainder: [remainder[0]!, remainder[1]!],
  };
}

/** Per-axis [begin, end] amounts of a Pad node with constant pads (input in opset 11+, attribute before). */
export function padAmounts(node: NodeSpec, rank: number, constants: IntConstants): { begins: number[]; ends: number[] } {
  const attribute = node.attributes.pads;
  const pads = attribute?.type === 'ints' ? attribute.value : constants.get(node.inputs[1] ?? '');
  if (!pads) throw new Error(`${node.name}: Pad amounts must be a constant`);
  const axesInput = node.inputs[3];
  const axes = axesInput ? constants.get(axesInput)?.map((a) => (a < 0 ? a + rank : a)) : Array.from({ length: rank }, (_, i) => i);
  if (!axes) throw new Error(`${node.name}: Pad axes must be a constant`);
  if (pads.length !== 2 * axes.length) throw new Error(`${node.name}: ${pads.length} pad amounts for ${axes.length} axes`);
  const begins = new Array<number>(rank).fill(0);
  const ends = new Array<number>(rank).fill(0);
  axes.forEach((axis, k) => {
    begins[axis] = pads[k]!;
    ends[axis] = pads[axes.length + k]!;
  });
  return { begins, ends };
}

const sameAsFirst: ShapeRule = (_node, [x]) => (x ? [x] : undefined);

const broadcasting: ShapeRule = (_node, inputs) => {
  if (inputs.some((s) => !s)) return undefined;
  return [(inputs as Shape[]).reduce(broadcastShapes)];
};

const reduction: ShapeRule = (node, [x], constants) => {
  if (!x) return undefined;
  const axes = new Set(reductionAxes(node, x.length, constants));
  const keep = keepsDims(node);
  const out: number[] = [];
  x.forEach((d, i) => {
    if (!axes.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return [out];
};

const SHAPE_RULES: Readonly<Record<string, ShapeRule>> = {
  Identity: sameAsFirst, Neg: sameAsFirst, Relu: sameAsFirst, Exp: sameAsFirst, Log: sameAsFirst, Sqrt: sameAsFirst,
  Softmax: sameAsFirst, LogSoftmax: sameAsFirst, Cast: sameAsFirst, Abs: sameAsFirst, Sign: sameAsFirst, Clip: sameAsFirst,
  Add: broadcasting, Sub: broadcasting, Mul: broadcasting, Div: broadcasting, Sum: broadcasting, Max: broadcasting,
  Pow: broadcasting, Greater: broadcasting, Less: broadcasting, Equal: broadcasting,
  Where: broadcasting,
  ReduceSum: reduction, ReduceMean: reduction, ReduceSumSquare: reduction, ReduceL2: reduction, ReduceMax: reduction,
  MatMul: (_node, [a, b]) => {
    if (!a || !b) return undefined;
    if (a.length !== 2 || b.length !== 2) throw new Error('MatMul: only rank-2 operands are supported');
    if (a[1] !== b[0]) throw new Error(`MatMul: [${a}] · [${b}]`);
    return [[a[0]!, b[1]!]];
  },
  Gemm: (node, [a, b]) => {
    if (!a || !b) return undefined;
    const rows = intAttribute(node, 'transA', 0) ? a[1]! : a[0]!;
    const cols = intAttribute(node, 'transB', 0) ? b[0]! : b[1]!;
    return [[rows, cols]];
  },
  Conv: (node, [x, w]) => {
    if (!x || !w) return undefined;
    const { out } = convGeometry(node, x, w);
    return [[x[0]!, w[0]!, out[0], out[1]]];
  },
  GlobalAveragePool: (_node, [x]) => (x ? [x.map((d, i) => (i < 2 ? d : 1))] : undefined),
  Flatten: (node, [x]) => {
    if (!x) return undefined;
    const raw = intAttribute(node, 'axis', 1);
    const axis = raw < 0 ? raw + x.length : raw;
    const product = (dims: Shape) => dims.reduce((a, b) => a * b, 1);
    return [[product(x.slice(0, axis)), product(x.slice(axis))]];
  },
  Pad: (node, [x], constants) => {
    if (!x) return undefined;
    const { begins, ends } = padAmounts(node, x.length, constants);
    return [x.map((d, i) => d + begins[i]! + ends[i]!)];
  },
  Transpose: (node, [x]) => {
    if (!x) return undefined;
    const perm = node.attributes.perm?.type === 'ints' ? node.attributes.perm.value : x.map((_, i) => x.length - 1 - i);
    return [perm.map((p) => x[p]!)];
  },
  Reshape: (node, [x], constants) => {
    const target = constants.get(node.inputs[1] ?? '');
    if (!x || !target) return undefined;
    const known = target.reduce((acc, d, i) => (d === -1 ? acc : acc * (d === 0 ? x[i]! : d)), 1);
    const total = x.reduce((a, b) => a * b, 1);
    return [target.map((d, i) => (d === -1 ? total / known : d === 0 ? x[i]! : d))];
  },
  Slice: (node, [x], constants) => {
    if (!x) return undefined;
    const { starts, ends } = sliceBounds(node, x, constants);
    return [x.map((_, i) => ends[i]! - starts[i]!)];
  },
  Gather: (node, [data, indices]) => {
    if (!data || !indices) return undefined;
    const axis = (intAttribute(node, 'axis', 0) + data.length) % data.length;
    return [[...data.slice(0, axis), ...indices, ...data.slice(axis + 1)]];
  },
  OneHot: (node, [indices], constants) => {
    const depth = constants.get(node.inputs[1] ?? '')?.[0];
    if (!indices || depth === undefined) return undefined;
    const axis = intAttribute(node, 'axis', -1);
    const out = [...indices];
    out.splice(axis < 0 ? out.length + 1 + axis : axis, 0, depth);
    return [out];
  },
};

/** Per-axis [start, end) of a Slice with constant starts/ends/axes and unit steps, clamped. */
export function sliceBounds(node: NodeSpec, x: Shape, constants: IntConstants): { starts: number[]; ends: number[] } {
  const read = (k: number) => (node.inputs[k] ? constants.get(node.inputs[k]) : undefined);
  const starts = read(1);
  const ends = read(2);
  if (!starts || !ends) throw new Error(`${node.name}: Slice bounds must be constants`);
  const axes = read(3) ?? starts.map((_, i) => i);
  const steps = read(4);
  if (steps && steps.some((s) => s !== 1)) throw new Error(`${node.name}: only unit Slice steps are supported`);
  const from = x.map(() => 0);
  const to = [...x];
  axes.forEach((rawAxis, k) => {
    const axis = rawAxis < 0 ? rawAxis + x.length : rawAxis;
    const dim = x[axis]!;
    const clamp = (v: number) => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
    from[axis] = clamp(starts[k]!);
    to[axis] = Math.max(from[axis]!, clamp(ends[k]!));
  });
  return { starts: from, ends: to };
}

/**
 * Shapes of every value the node list produces, from the shapes of graph inputs, initializers and
 * `known` (e.g. outer-scope values of a Loop body). Values of ops without a rule stay unknown;
 * a gradient rule that needs one of those fails with its name.
 */
export function inferShapes(builder: GraphBuilder, known: ReadonlyMap<string, Shape> = new Map()): Map<string, Shape> {
  const shapes = new Map<string, Shape>(known);
  for (const input of builder.inputs) {
    if (input.shape.every((d) => typeof d === 'number')) shapes.set(input.name, input.shape as number[]);
  }
  for (const init of builder.initializers) shapes.set(init.name, init.dims);
  const constants = intConstants(builder);
  for (const node of builder.nodes) {
    const rule = SHAPE_RULES[node.opType];
    const outputs = rule?.(node, node.inputs.map((name) => shapes.get(name)), constants);
    outputs?.forEach((shape, k) => {
      const name = node.outputs[k];
      if (name) shapes.set(name, shape);
    });
  }
  return shapes;
}
