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
  /** Draws one value; default uniform in (−1, 1). Keep away from kinks and domain edges. */
  draw?: (rand: () => number) => number;
}

interface GradientCase {
  name: string;
  inputs: InputSpec[];
  build: (b: GraphBuilder, inputs: string[]) => string;
}

const positive = (rand: () => number) => 0.5 + Math.abs(rand());
const awayFromZero = (rand: () => number) => { const v = rand(); return Math.sign(v || 1) * (0.2 + Math.abs(v)); };

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function check(testCase: GradientCase): Promise<{ worst: number; scale: number }> {
  const rand = random(7);
  const b = new GraphBuilder(testCase.name);
  const names = testCase.inputs.map((spec) => b.addInput(spec.name, 'float32', spec.shape));
  const f = testCase.build(b, names);
  const fShape = inferShapes(b).get(f);
  if (!fShape) throw new Error('output shape unknown');
  const size = fShape.reduce((a, c) => a * c, 1);
  const weights = b.addFloatInitializer('R', fShape, Float32Array.from({ length: size }, () => rand()));
  const loss = b.addNode('ReduceSum', [b.addNode('Mul', [f, weights])], { keepdims: attr.int(0) }, { output: 'loss' });
  const gradients = addGradients(b, { loss, wrt: names });
  b.addOutput(loss, 'float32', []);
  gradients.forEach((g, k) => {
    const out = b.addNode('Identity', [g], {}, { output: `d_${names[k]}` });
    b.addOutput(out, 'float32', testCase.inputs[k]!.shape);
  });
  const { session } = await openSession(b.toBytes(), 'cpu', { intraOp: 1, interOp: 1 });
  sessions.push(session);

  const values = testCase.inputs.map((spec) => Float32Array.from({ length: spec.shape.reduce((a, c) => a * c, 1) }, () => (spec.draw ?? ((r) => r()))(rand)));
  const feeds = () => Object.fromEntries(testCase.inputs.map((spec, k) => [spec.name, new ort.Tensor('float32', values[k]!.slice(), spec.shape)]));
  const base = await session.run(feeds());
  const h = 1e-2;
  let worst = 0;
  let scale = 0;
  for (let k = 0; k < values.length; k++) {
    const analytic = base[`d_${names[k]}`]!.data as Float32Array;
    const v = values[k]!;
    for (let i = 0; i < v.length; i++) {
      const saved = v[i]!;
      v[i] = saved + h;
      const up = ((await session.run(feeds())).loss!.data as Float32Array)[0]!;
      v[i] = saved - h;
      const down = ((await session.run(feeds())).loss!.data as Float32Array)[0]!;
      v[i] = saved;
      const numeric = (up - down) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - analytic[i]!) / (1 + Math.abs(numeric)));
      scale = Math.max(scale, Math.abs(analytic[i]!));
    }
  }
  return { worst, scale };
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
];

describe('reverse-mode gradients match central finite differences', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const { worst, scale } = await check(testCase);
      expect(scale).toBeGreaterThan(1e-2); // a rule returning zeros must not pass
      expect(worst).toBeLessThan(2e-3);
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
