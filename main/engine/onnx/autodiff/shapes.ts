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
  Softmax: sameAsFirst, LogSoftmax: sameAsFirst, Cast: sameAsFirst, Abs: sameAsFirst, Sign: sameAsFirst,
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
