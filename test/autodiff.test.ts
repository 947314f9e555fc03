// Every gradient rule against central finite differences, in real ONNX Runtime sessions: a tiny
// graph f(inputs) is reduced to the scalar Σ f ⊙ R with a fixed random R (so every output element
// counts with its own weight, and a transposed or missing term shows), the reverse pass adds its
// gradients, and each input element is nudged by ±h.
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { addGradients } from '../main/engine/onnx/autodiff/reverse-pass.js';
import { inferShapes } from '../main/engine/onnx/autodiff/shapes.js';
import { attr, GraphBuilder } from '../main/engine/onnx/graph-builder.js';
import { openSession } from '../main/engine/runtime/devices.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

interface InputSpec {
  name: string;
  shape: number[];
  /** Draws element `index`; default uniform in (−1, 1). Keep away from kinks and domain edges. */
  draw?: (rand: () => number, index: number) => number;
  /** Fed but not differentiated (data, e.g. cached activations): exercises rules that skip an input. */
  fixed?: boolean;
}

interface GradientCase {
  name: string;
  inputs: InputSpec[];
  /**
   * Builds f. `kinks(v, at)` declares that f is only piecewise smooth in `v`, with kinks where an
   * element of v equals one of `at` (ReLU6: 0 and 6): a ±h step that moves an element of v across
   * one has a central difference that is no derivative, so that input element is left out.
   */
  build: (b: GraphBuilder, inputs: string[], kinks: (value: string, at: readonly number[]) => void) => string;
  /** Most input elements that may be left out for crossing a kink, as a fraction; default 0. */
  maxKinkCrossings?: number;
  opset?: number;
  /**
   * Finite-difference step, default 1e-2. Graphs that are linear in each single input element
   * (convolutions alone) have an exact central difference at any step, and a large one keeps
   * float32 rounding of the loss from dominating.
   */
  h?: number;
  /** Largest |numeric − analytic| / (1 + |numeric|), default 2e-3. */
  tolerance?: number;
}

const positive = (rand: () => number) => 0.5 + Math.abs(rand());
const awayFromZero = (rand: () => number) => { const v = rand(); return Math.sign(v || 1) * (0.2 + Math.abs(v)); };

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function check(testCase: GradientCase): Promise<{ worst: number; worstOfLargest: number; scale: number; crossings: number; elements: number }> {
  const rand = random(7);
  const b = new GraphBuilder(testCase.name, { opsetVersion: testCase.opset });
  const names = testCase.inputs.map((spec) => b.addInput(spec.name, 'float32', spec.shape));
  const watched: { value: string; at: readonly number[] }[] = [];
  const f = testCase.build(b, names, (value, at) => watched.push({ value, at }));
  const shapes = inferShapes(b);
  const fShape = shapes.get(f);
  if (!fShape) throw new Error('output shape unknown');
  const size = fShape.reduce((a, c) => a * c, 1);
  const weights = b.addFloatInitializer('R', fShape, Float32Array.from({ length: size }, () => rand()));
  const loss = b.addNode('ReduceSum', [b.addNode('Mul', [f, weights])], { keepdims: attr.int(0) }, { output: 'loss' });
  const differentiated = testCase.inputs.flatMap((spec, k) => (spec.fixed ? [] : [k]));
  const gradients = addGradients(b, { loss, wrt: differentiated.map((k) => names[k]!) });
  b.addOutput(loss, 'float32', []);
  gradients.forEach((g, j) => {
    const k = differentiated[j]!;
    const out = b.addNode('Identity', [g], {}, { output: `d_${names[k]}` });
    b.addOutput(out, 'float32', testCase.inputs[k]!.shape);
  });
  watched.forEach(({ value }, j) => b.addOutput(b.addNode('Identity', [value], {}, { output: `kink_${j}` }), 'float32', shapes.get(value)!));
  const { session } = await openSession(b.toBytes(), 'cpu', { intraOp: 1, interOp: 1 });
  sessions.push(session);

  const values = testCase.inputs.map((spec) => Float32Array.from({ length: spec.shape.reduce((a, c) => a * c, 1) }, (_, i) => (spec.draw ?? ((r) => r()))(rand, i)));
  const feeds = () => Object.fromEntries(testCase.inputs.map((spec, k) => [spec.name, new ort.Tensor('float32', values[k]!.slice(), spec.shape)]));
  const base = await session.run(feeds());
  // Which piece (how many kinks lie below) each watched element is in.
  const pieces = (out: ort.InferenceSession.ReturnType) =>
    watched.flatMap(({ at }, j) => Array.from(out[`kink_${j}`]!.data as Float32Array, (v) => at.filter((kink) => kink < v).length));
  const basePieces = pieces(base);
  const crossesKink = (out: ort.InferenceSession.ReturnType) => pieces(out).some((p, i) => p !== basePieces[i]);
  const h = testCase.h ?? 1e-2;
  let worst = 0;
  let scale = 0;
  // Per input: largest error over largest |gradient|, so that an error in small gradients (the
  // first layers of a deep graph) shows where the 1 in 1 + |numeric| would hide it.
  let worstOfLargest = 0;
  let crossings = 0;
  let elements = 0;
  for (const k of differentiated) {
    const analytic = base[`d_${names[k]}`]!.data as Float32Array;
    const v = values[k]!;
    let largestError = 0;
    let largest = 0;
    for (let i = 0; i < v.length; i++) {
      const saved = v[i]!;
      v[i] = saved + h;
      const upRun = await session.run(feeds());
      v[i] = saved - h;
      const downRun = await session.run(feeds());
      v[i] = saved;
      elements++;
      if (crossesKink(upRun) || crossesKink(downRun)) {
        crossings++;
        continue;
      }
      const up = (upRun.loss!.data as Float32Array)[0]!;
      const down = (downRun.loss!.data as Float32Array)[0]!;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[i]!) / (1 + Math.abs(numeric));
      worst = Math.max(worst, err);
      scale = Math.max(scale, Math.abs(analytic[i]!));
      largestError = Math.max(largestError, Math.abs(numeric - analytic[i]!));
      largest = Math.max(largest, Math.abs(numeric));
    }
    if (largest > 0) worstOfLargest = Math.max(worstOfLargest, largestError / largest);
  }
  return { worst, worstOfLargest, scale, crossings, elements };
}

const unaryCase = (op: string, draw?: InputSpec['draw']): GradientCase => ({
  name: op,
  inputs: [{ name: 'x', shape: [3, 4], draw }],
  build: (b, [x]) => b.addNode(op, [x!]),
});

const gemmCase = (transA: number, transB: number): GradientCase => ({
  name: `Gemm transA=${transA} transB=${transB}, α=0.7, β=1.3, broadcast bias`,
  inputs: [
    { name: 'a', shape: transA ? [4, 3] : [3, 4] },
    { name: 'w', shape: transB ? [2, 4] : [4, 2] },
    { name: 'c', shape: [2] },
  ],
  build: (b, [a, w, c]) => b.addNode('Gemm', [a!, w!, c!], { transA: attr.int(transA), transB: attr.int(transB), alpha: attr.float(0.7), beta: attr.float(1.3) }),
});

const reduceCase = (op: string, axes: number[], keepdims: number, draw?: InputSpec['draw']): GradientCase => ({
  name: `${op} axes=[${axes}] keepdims=${keepdims}`,
  inputs: [{ name: 'x', shape: [2, 3, 4], draw }],
  build: (b, [x]) =>
    op === 'ReduceSum'
      ? b.addNode(op, [x!, b.int64Vector(axes)], { keepdims: attr.int(keepdims) })
      : b.addNode(op, [x!], { axes: attr.ints(axes), keepdims: attr.int(keepdims) }),
});

interface ConvSpec {
  x: [number, number, number, number];
  w: [number, number, number, number];
  bias?: boolean;
  strides?: [number, number];
  pads?: [number, number, number, number];
  dilations?: [number, number];
  group?: number;
  autoPad?: string;
}

const convCase = (label: string, spec: ConvSpec): GradientCase => {
  const { x, w, bias = false, strides = [1, 1], pads, dilations, group = 1, autoPad } = spec;
  const details = [
    `x [${x}]`, `w [${w}]`, `group ${group}`, `stride ${strides.join('×')}`,
    autoPad ?? `pads [${pads ?? [0, 0, 0, 0]}]`, dilations ? `dilation ${dilations.join('×')}` : '', bias ? 'bias' : 'no bias',
  ].filter(Boolean);
  return {
    name: `Conv ${label}: ${details.join(', ')}`,
    inputs: [{ name: 'x', shape: x }, { name: 'w', shape: w }, ...(bias ? [{ name: 'b', shape: [w[0]] }] : [])],
    build: (b, [xs, ws, bs]) =>
      b.addNode('Conv', bs ? [xs!, ws!, bs] : [xs!, ws!], {
        kernel_shape: attr.ints([w[2], w[3]]),
        strides: attr.ints(strides),
        group: attr.int(group),
        ...(pads ? { pads: attr.ints(pads) } : {}),
        ...(dilations ? { dilations: attr.ints(dilations) } : {}),
        ...(autoPad ? { auto_pad: attr.string(autoPad) } : {}),
      }),
    // Σ Conv(X, W) ⊙ R is linear in each single element of X, W and B.
    h: 0.5,
  };
};

const scaled = (s: number) => (rand: () => number) => s * rand();
/** Element i within 0.1 of centers[i]. */
const around = (centers: readonly number[]) => (rand: () => number, i: number) => centers[i]! + 0.1 * rand();

/** Uniform in (−2, 8), at least 0.2 from ReLU6's kinks at 0 and 6. */
const awayFromRelu6Kinks = (rand: () => number) => {
  const v = 3 + 5 * rand();
  return Math.abs(v) < 0.2 || Math.abs(v - 6) < 0.2 ? v + 0.5 : v;
};

const CASES: GradientCase[] = [
  unaryCase('Identity'),
  unaryCase('Neg'),
  unaryCase('Exp'),
  unaryCase('Log', positive),
  unaryCase('Sqrt', positive),
  unaryCase('Relu', awayFromZero),
  { name: 'Add, [3,4] + [4]', inputs: [{ name: 'a', shape: [3, 4] }, { name: 'b', shape: [4] }], build: (b, [x, y]) => b.addNode('Add', [x!, y!]) },
  { name: 'Add, [3,1] + [1,4]', inputs: [{ name: 'a', shape: [3, 1] }, { name: 'b', shape: [1, 4] }], build: (b, [x, y]) => b.addNode('Add', [x!, y!]) },
  { name: 'Sub, [3] − [2,3]', inputs: [{ name: 'a', shape: [3] }, { name: 'b', shape: [2, 3] }], build: (b, [x, y]) => b.addNode('Sub', [x!, y!]) },
  { name: 'Mul, [2,3] ⊙ [2,1]', inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [2, 1] }], build: (b, [x, y]) => b.addNode('Mul', [x!, y!]) },
  { name: 'Mul by a scalar []', inputs: [{ name: 'a', shape: [2, 3] }, { name: 's', shape: [] }], build: (b, [x, y]) => b.addNode('Mul', [x!, y!]) },
  { name: 'Div, [2,3] / [3]', inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [3], draw: positive }], build: (b, [x, y]) => b.addNode('Div', [x!, y!]) },
  { name: 'Sum of three, broadcast', inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [3] }, { name: 'c', shape: [2, 1] }], build: (b, [x, y, z]) => b.addNode('Sum', [x!, y!, z!]) },
  { name: 'MatMul [3,4]·[4,2]', inputs: [{ name: 'a', shape: [3, 4] }, { name: 'b', shape: [4, 2] }], build: (b, [x, y]) => b.addNode('MatMul', [x!, y!]) },
  gemmCase(0, 0), gemmCase(0, 1), gemmCase(1, 0), gemmCase(1, 1),
  { name: 'Softmax axis −1', inputs: [{ name: 'x', shape: [3, 4] }], build: (b, [x]) => b.addNode('Softmax', [x!], { axis: attr.int(-1) }) },
  { name: 'Softmax axis 0', inputs: [{ name: 'x', shape: [3, 4] }], build: (b, [x]) => b.addNode('Softmax', [x!], { axis: attr.int(0) }) },
  { name: 'LogSoftmax axis −1', inputs: [{ name: 'x', shape: [3, 4] }], build: (b, [x]) => b.addNode('LogSoftmax', [x!], { axis: attr.int(-1) }) },
  { name: 'LogSoftmax axis 0', inputs: [{ name: 'x', shape: [3, 4] }], build: (b, [x]) => b.addNode('LogSoftmax', [x!], { axis: attr.int(0) }) },
  reduceCase('ReduceSum', [1], 0),
  reduceCase('ReduceSum', [0, 2], 1),
  reduceCase('ReduceSum', [], 0),
  reduceCase('ReduceMean', [2], 0),
  reduceCase('ReduceMean', [0, 1], 1),
  reduceCase('ReduceSumSquare', [1], 0),
  reduceCase('ReduceL2', [2], 1, awayFromZero),
  { name: 'Reshape [2,3,4] → [6,4]', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (b, [x]) => b.addNode('Reshape', [x!, b.int64Vector([6, -1])]) },
  { name: 'Transpose perm [2,0,1]', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (b, [x]) => b.addNode('Transpose', [x!], { perm: attr.ints([2, 0, 1]) }) },
  { name: 'Slice columns 1:4 of [3,5]', inputs: [{ name: 'x', shape: [3, 5] }], build: (b, [x]) => b.addNode('Slice', [x!, b.int64Vector([1]), b.int64Vector([4]), b.int64Vector([1])]) },
  { name: 'Add, residual NCHW [2,3,4,5] + [2,3,4,5]', inputs: [{ name: 'a', shape: [2, 3, 4, 5] }, { name: 'b', shape: [2, 3, 4, 5] }], build: (b, [x, y]) => b.addNode('Add', [x!, y!]) },
  { name: 'Add, per-channel NCHW [2,3,4,5] + [1,3,1,1]', inputs: [{ name: 'a', shape: [2, 3, 4, 5] }, { name: 'b', shape: [1, 3, 1, 1] }], build: (b, [x, y]) => b.addNode('Add', [x!, y!]) },
  convCase('1×1 (expand/project)', { x: [2, 4, 3, 5], w: [6, 4, 1, 1], bias: true }),
  convCase('3×3 same', { x: [2, 3, 5, 5], w: [4, 3, 3, 3], pads: [1, 1, 1, 1], bias: true }),
  convCase('3×3 stride 2, even size: one input row/column past the last window', { x: [2, 3, 6, 6], w: [4, 3, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
  convCase('3×3 stride 2, odd size', { x: [2, 3, 7, 7], w: [2, 3, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], bias: true }),
  convCase('2×3 kernel, stride 2×1, uneven pads, no padding on one side', { x: [1, 2, 6, 5], w: [3, 2, 2, 3], strides: [2, 1], pads: [0, 1, 1, 0], bias: true }),
  convCase('valid, stride 3 with two leftover rows', { x: [1, 2, 8, 7], w: [2, 2, 3, 3], strides: [3, 3] }),
  convCase('grouped', { x: [2, 4, 5, 5], w: [6, 2, 3, 3], group: 2, pads: [1, 1, 1, 1], bias: true }),
  convCase('grouped, stride 2', { x: [1, 6, 6, 5], w: [6, 2, 3, 3], group: 3, strides: [2, 2], pads: [1, 1, 1, 1] }),
  convCase('depthwise', { x: [2, 3, 5, 5], w: [3, 1, 3, 3], group: 3, pads: [1, 1, 1, 1], bias: true }),
  convCase('depthwise, stride 2, odd size', { x: [2, 4, 7, 7], w: [4, 1, 3, 3], group: 4, strides: [2, 2], pads: [1, 1, 1, 1] }),
  convCase('depthwise, stride 2, even size, TFLite SAME pads', { x: [2, 3, 6, 6], w: [3, 1, 3, 3], group: 3, strides: [2, 2], pads: [0, 0, 1, 1], bias: true }),
  convCase('depthwise, channel multiplier 2, stride 2', { x: [1, 3, 6, 6], w: [6, 1, 3, 3], group: 3, strides: [2, 2], pads: [1, 1, 1, 1], bias: true }),
  convCase('dilated', { x: [1, 2, 7, 6], w: [3, 2, 3, 3], dilations: [2, 2], pads: [2, 2, 2, 2], bias: true }),
  convCase('dilated, stride 2', { x: [1, 2, 8, 8], w: [2, 2, 3, 3], dilations: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] }),
  convCase('auto_pad SAME_LOWER', { x: [1, 2, 6, 5], w: [2, 2, 3, 3], strides: [2, 2], autoPad: 'SAME_LOWER' }),
  convCase('auto_pad VALID', { x: [1, 2, 5, 6], w: [2, 2, 3, 2], strides: [2, 2], autoPad: 'VALID' }),
  {
    name: 'Conv weights only, input fixed (fine-tuning on cached activations)',
    inputs: [{ name: 'x', shape: [2, 4, 3, 3], fixed: true }, { name: 'w', shape: [4, 1, 3, 3] }, { name: 'b', shape: [4] }],
    build: (b, [x, w, bias]) => b.addNode('Conv', [x!, w!, bias!], { group: attr.int(4), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }),
    h: 0.5,
  },
  {
    name: 'Clip as ReLU6, bounds as inputs (opset 11+)',
    inputs: [{ name: 'x', shape: [3, 5], draw: awayFromRelu6Kinks }],
    build: (b, [x]) => b.addNode('Clip', [x!, b.floatScalar(0), b.floatScalar(6)]),
  },
  {
    name: 'Clip as ReLU6, bounds as attributes (opset 10)',
    inputs: [{ name: 'x', shape: [3, 5], draw: awayFromRelu6Kinks }],
    build: (b, [x]) => b.addNode('Clip', [x!], { min: attr.float(0), max: attr.float(6) }),
    opset: 10,
  },
  {
    name: 'Clip with only a max, and a differentiated max',
    inputs: [{ name: 'x', shape: [3, 5], draw: awayFromRelu6Kinks }, { name: 'hi', shape: [], draw: () => 3.1 }],
    build: (b, [x, hi]) => b.addNode('Clip', [x!, '', hi!]),
  },
  {
    name: 'Clip with differentiated min and max',
    inputs: [{ name: 'x', shape: [3, 5], draw: awayFromRelu6Kinks }, { name: 'lo', shape: [], draw: () => 1.1 }, { name: 'hi', shape: [], draw: () => 5.1 }],
    build: (b, [x, lo, hi]) => b.addNode('Clip', [x!, lo!, hi!]),
  },
  { name: 'GlobalAveragePool [2,3,5,7]', inputs: [{ name: 'x', shape: [2, 3, 5, 7] }], build: (b, [x]) => b.addNode('GlobalAveragePool', [x!]) },
  { name: 'Flatten axis 1 of [2,3,1,1]', inputs: [{ name: 'x', shape: [2, 3, 1, 1] }], build: (b, [x]) => b.addNode('Flatten', [x!], { axis: attr.int(1) }) },
  { name: 'Flatten axis −2 of [2,3,4]', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (b, [x]) => b.addNode('Flatten', [x!], { axis: attr.int(-2) }) },
  {
    name: 'Pad NCHW spatially (constant, as TFLite PAD before a stride-2 conv)',
    inputs: [{ name: 'x', shape: [1, 2, 3, 4] }],
    build: (b, [x]) => b.addNode('Pad', [x!, b.int64Vector([0, 0, 0, 1, 0, 0, 1, 2])], { mode: attr.string('constant') }),
  },
  {
    name: 'a value used three times (x⊙x + exp(x) + x): gradients accumulate',
    inputs: [{ name: 'x', shape: [2, 3] }],
    build: (b, [x]) => b.addNode('Add', [b.addNode('Add', [b.addNode('Mul', [x!, x!]), b.addNode('Exp', [x!])]), x!]),
  },
  {
    name: 'cross-entropy: −Σ onehot(y) ⊙ log softmax(x·W)',
    inputs: [{ name: 'x', shape: [3, 4] }, { name: 'w', shape: [4, 5] }],
    build: (b, [x, w]) => {
      const labels = b.addInt64Initializer('labels', [3], [4, 0, 2]);
      const onehot = b.addNode('OneHot', [labels, b.int64Vector([5]), b.addFloatInitializer('onoff', [2], [0, 1])], { axis: attr.int(-1) });
      const logp = b.addNode('LogSoftmax', [b.addNode('MatMul', [x!, w!])], { axis: attr.int(-1) });
      return b.addNode('Neg', [b.addNode('ReduceSum', [b.addNode('Mul', [onehot, logp]), b.int64Vector([1])], { keepdims: attr.int(0) })]);
    },
  },
  {
    name: 'distillation: −Σ softmax(t/T) ⊙ log softmax(z[:, 0:3]/T)',
    inputs: [{ name: 'z', shape: [2, 5] }, { name: 't', shape: [2, 3] }],
    build: (b, [z, t]) => {
      const temperature = b.floatScalar(2);
      const student = b.addNode('Div', [b.addNode('Slice', [z!, b.int64Vector([0]), b.int64Vector([3]), b.int64Vector([1])]), temperature]);
      const teacher = b.addNode('Softmax', [b.addNode('Div', [t!, temperature])], { axis: attr.int(-1) });
      const logq = b.addNode('LogSoftmax', [student], { axis: attr.int(-1) });
      return b.addNode('Neg', [b.addNode('ReduceSum', [b.addNode('Mul', [teacher, logq]), b.int64Vector([1])], { keepdims: attr.int(0) })]);
    },
  },
  {
    name: 'L2-normalize rows: x / (‖x‖ + ε)',
    inputs: [{ name: 'x', shape: [3, 4], draw: awayFromZero }],
    build: (b, [x]) => b.addNode('Div', [x!, b.addNode('Add', [b.addNode('ReduceL2', [x!], { axes: attr.ints([1]), keepdims: attr.int(1) }), b.floatScalar(1e-6)])]),
  },
  {
    name: 'hidden ReLU head: relu(x·W1ᵀ + b1)·W2ᵀ + b2',
    inputs: [{ name: 'x', shape: [3, 4] }, { name: 'w1', shape: [5, 4] }, { name: 'b1', shape: [5] }, { name: 'w2', shape: [2, 5] }, { name: 'b2', shape: [2] }],
    build: (b, [x, w1, b1, w2, b2]) => {
      const hidden = b.addNode('Relu', [b.addNode('Gemm', [x!, w1!, b1!], { transB: attr.int(1) })]);
      return b.addNode('Gemm', [hidden, w2!, b2!], { transB: attr.int(1) });
    },
  },
  {
    // MobileNetV2's last inverted-residual block and head as the importer emits them, on cached
    // activations x: 1×1 expand → ReLU6 → depthwise 3×3 → ReLU6 → 1×1 project → + x → final 1×1
    // conv → ReLU6 → global average pool → Flatten → Gemm → softmax cross-entropy. Biases put
    // some channels mostly below 0 and some above 6, so every ReLU6 passes and clips both ways
    // (each has elements in all three pieces with this seed). A 3×3 map and a large head keep the
    // first layer's gradients far above float32 noise in the loss.
    name: 'inverted residual block + head, cross-entropy: every weight',
    inputs: [
      { name: 'x', shape: [2, 4, 3, 3], fixed: true },
      { name: 'w_expand', shape: [8, 4, 1, 1] },
      { name: 'b_expand', shape: [8], draw: around([1, -2, 1, 7, 1, 1, -2, 1]) },
      { name: 'w_depthwise', shape: [8, 1, 3, 3], draw: scaled(0.5) },
      { name: 'b_depthwise', shape: [8], draw: around([1, 1, -2, 1, 8, 1, 1, 1]) },
      { name: 'w_project', shape: [4, 8, 1, 1], draw: scaled(0.5) },
      { name: 'b_project', shape: [4] },
      { name: 'w_last', shape: [6, 4, 1, 1] },
      { name: 'b_last', shape: [6], draw: around([1, -3, 8, 1, 1, 1]) },
      { name: 'w_head', shape: [3, 6], draw: scaled(2) },
      { name: 'b_head', shape: [3] },
    ],
    build: (b, [x, wExpand, bExpand, wDepthwise, bDepthwise, wProject, bProject, wLast, bLast, wHead, bHead], kinks) => {
      const relu6 = (v: string) => {
        kinks(v, [0, 6]);
        return b.addNode('Clip', [v, b.floatScalar(0), b.floatScalar(6)]);
      };
      const pointwise = (v: string, w: string, bias: string) => b.addNode('Conv', [v, w, bias], { kernel_shape: attr.ints([1, 1]) });
      const expanded = relu6(pointwise(x!, wExpand!, bExpand!));
      const filtered = relu6(
        b.addNode('Conv', [expanded, wDepthwise!, bDepthwise!], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), group: attr.int(8) }),
      );
      const block = b.addNode('Add', [pointwise(filtered, wProject!, bProject!), x!]);
      const features = relu6(pointwise(block, wLast!, bLast!));
      const pooled = b.addNode('Flatten', [b.addNode('GlobalAveragePool', [features])], { axis: attr.int(1) });
      const logits = b.addNode('Gemm', [pooled, wHead!, bHead!], { transB: attr.int(1) });
      const labels = b.addInt64Initializer('labels', [2], [2, 0]);
      const onehot = b.addNode('OneHot', [labels, b.int64Vector([3]), b.addFloatInitializer('onoff', [2], [0, 1])], { axis: attr.int(-1) });
      const logp = b.addNode('LogSoftmax', [logits], { axis: attr.int(-1) });
      const total = b.addNode('ReduceSum', [b.addNode('Mul', [onehot, logp])], { keepdims: attr.int(0) });
      return b.addNode('Mul', [total, b.floatScalar(-1 / 2)]);
    },
    maxKinkCrossings: 0.1,
  },
];

describe('reverse-mode gradients match central finite differences', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const { worst, worstOfLargest, scale, crossings, elements } = await check(testCase);
      expect(crossings).toBeLessThanOrEqual((testCase.maxKinkCrossings ?? 0) * elements);
      expect(scale).toBeGreaterThan(1e-2); // a rule returning zeros must not pass
      expect(worst).toBeLessThan(testCase.tolerance ?? 2e-3);
      expect(worstOfLargest).toBeLessThan(1e-3);
    });
  }
});

describe('reverse pass', () => {
  it('gives an exact zero gradient for a value the loss does not depend on', async () => {
    const b = new GraphBuilder('unused');
    const x = b.addInput('x', 'float32', [2]);
    const y = b.addInput('y', 'float32', [3]);
    const loss = b.addNode('ReduceSum', [b.addNode('Exp', [x])], { keepdims: attr.int(0) });
    const [, dy] = addGradients(b, { loss, wrt: [x, y] });
    b.addOutput(dy!, 'float32', [3]);
    const { session } = await openSession(b.toBytes(), 'cpu', { intraOp: 1, interOp: 1 });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]), y: new ort.Tensor('float32', new Float32Array(3), [3]) });
    expect(Array.from(out[dy!]!.data as Float32Array)).toEqual([0, 0, 0]);
    await session.release();
  });

  it('refuses to cross an op it has no rule for instead of dropping the gradient', () => {
    const b = new GraphBuilder('no-rule');
    const x = b.addInput('x', 'float32', [3, 2]);
    const rows = b.addNode('Gather', [x, b.addInt64Initializer('rows', [2], [0, 2])], { axis: attr.int(0) });
    const loss = b.addNode('ReduceSum', [rows], { keepdims: attr.int(0) });
    expect(() => addGradients(b, { loss, wrt: [x] })).toThrow(/no gradient rule for Gather/);
  });
});
