// Section `training`: optimizer steps of a head over cached embeddings, the TypeScript reference
// trainer against the ONNX Runtime train-step graphs (one step per run(), and the K-step Loop),
// per step and over a whole update; then the analytic learner's Gram accumulation in JS float64
// against an ONNX Runtime MatMul (float32 and float64), and its solve.
import * as ort from 'onnxruntime-node';
import { analyticRidge, SAMPLES_PER_CHUNK, solveRidge } from '../main/engine/learners/analytic.js';
import { noFeatures } from '../main/engine/learners/index.js';
import { CHOLESKY_BLOCK } from '../main/engine/learners/linalg/cholesky-onnx.js';
import { accumulateGram } from '../main/engine/learners/linalg/gram.js';
import { accumulateGramOnnx } from '../main/engine/learners/linalg/gram-onnx.js';
import { attr, GraphBuilder } from '../main/engine/onnx/graph-builder.js';
import { defaultThreads, openSession, type SessionThreads } from '../main/engine/runtime/devices.js';
import {
  initialOptimizerState, parameterShapes, type HeadArchitecture, type HeadTrainer, type LossSettings, type OptimizerSettings, type TrainRequest,
} from '../main/engine/training/head-trainer.js';
import { DEFAULT_STEPS_PER_CALL, OnnxTrainer } from '../main/engine/training/onnx-trainer.js';
import { TypeScriptTrainer } from '../main/engine/training/typescript-trainer.js';
import { fixed, ratio } from './markdown.js';
import type { BenchContext, SectionOutput, Table } from './section.js';

const D = 1280;

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/**
 * Embedding-like features: non-negative (post-ReLU pooling), one cluster per class plus noise,
 * L2-normalized as the learners see them.
 */
function syntheticFeatures(count: number, classes: number, seed: number): { features: Float32Array; labels: Int32Array } {
  const rand = random(seed);
  const centres = Float32Array.from({ length: classes * D }, () => Math.max(0, rand()) * 2);
  const features = new Float32Array(count * D);
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let j = 0; j < D; j++) {
      const v = Math.max(0, centres[labels[i]! * D + j]! * 0.5 + rand());
      features[i * D + j] = v;
      norm += v * v;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < D; j++) features[i * D + j]! *= scale;
  }
  return { features, labels };
}

function initialParameters(architecture: HeadArchitecture, seed: number): Float32Array[] {
  const rand = random(seed);
  return parameterShapes(architecture).map((shape) => {
    const fanIn = shape.length === 2 ? shape[1]! : 1;
    return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (shape.length === 2 ? rand() / Math.sqrt(fanIn) : 0));
  });
}

/** Shuffled epochs of batches over `count` samples (the last partial batch wraps around). */
function epochBatches(count: number, batchSize: number, epochs: number, seed: number): Int32Array {
  const rand = random(seed);
  const perEpoch = Math.ceil(count / batchSize);
  const out = new Int32Array(epochs * perEpoch * batchSize);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let e = 0; e < epochs; e++) {
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(((rand() + 1) / 2) * (i + 1)) % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let k = 0; k < perEpoch * batchSize; k++) out[e * perEpoch * batchSize + k] = order[k % count]!;
  }
  return out;
}

interface StepWorkload {
  label: string;
  request: TrainRequest;
}

function stepWorkload(label: string, architecture: HeadArchitecture, batchSize: number, steps: number, optimizer: OptimizerSettings, loss: LossSettings = {}): StepWorkload {
  const count = 3000;
  const { features, labels } = syntheticFeatures(count, architecture.classCount, 1);
  const parameters = initialParameters(architecture, 2);
  const k = loss.distillation?.classCount ?? 0;
  const rand = random(4);
  return {
    label,
    request: {
      architecture, optimizer, loss, parameters,
      state: initialOptimizerState(optimizer.kind, parameters),
      samples: { features, labels, count, teacherLogits: k > 0 ? Float32Array.from({ length: count * k }, () => rand() * 3) : undefined },
      batches: epochBatches(count, batchSize, Math.ceil((steps * batchSize) / count) + 1, 5).subarray(0, steps * batchSize),
      batchSize,
    },
  };
}

/** The first `steps` steps of a request. */
function firstSteps(request: TrainRequest, steps: number): TrainRequest {
  return { ...request, batches: request.batches.subarray(0, steps * request.batchSize), schedule: request.schedule?.subarray(0, steps) };
}

async function timeSteps(trainer: HeadTrainer, request: TrainRequest, steps: number): Promise<{ msPerStep: number; loss: number }> {
  await trainer.train(firstSteps(request, Math.min(2, steps))); // warm-up: session build, first-run allocations
  const t0 = performance.now();
  const result = await trainer.train(firstSteps(request, steps));
  return { msPerStep: (performance.now() - t0) / steps, loss: result.losses[steps - 1]! };
}

interface TrainerUnderTest {
  label: string;
  make: () => HeadTrainer;
  /** Steps timed per workload (the reference is slow; its per-step time is steady). */
  steps: number;
}

function trainersUnderTest(threads: SessionThreads): TrainerUnderTest[] {
  const one = { intraOp: 1, interOp: 1 };
  return [
    { label: '**reference**: TypeScriptTrainer', make: () => new TypeScriptTrainer(), steps: 4 },
    { label: `ONNX single-step graph, ${threads.intraOp} threads`, make: () => new OnnxTrainer('cpu', { mode: 'single-step', threads }), steps: 64 },
    { label: `ONNX Loop K=${DEFAULT_STEPS_PER_CALL}, ${threads.intraOp} threads`, make: () => new OnnxTrainer('cpu', { mode: 'loop', threads }), steps: 128 },
    { label: `ONNX Loop K=${DEFAULT_STEPS_PER_CALL}, 1 thread`, make: () => new OnnxTrainer('cpu', { mode: 'loop', threads: one }), steps: 128 },
  ];
}

function perStepReading(data: readonly { workload: string; trainer: string; msPerStep: number }[]): string[] {
  const first = data.filter((d) => d.workload === data[0]?.workload);
  const [reference, single, loop] = first;
  if (!reference || !single || !loop) return [];
  return [
    `For ${reference.workload}, the Loop graph takes ${fixed(loop.msPerStep, 2)} ms per step, ${ratio(loop.msPerStep, reference.msPerStep, 3)} the TypeScript loops; ` +
      `one run() per step costs ${fixed(single.msPerStep - loop.msPerStep, 2)} ms more per step (the batch gathered in JS, parameters and state fed in and copied out on every call), which the Loop pays once per ${DEFAULT_STEPS_PER_CALL} steps.`,
  ];
}

async function perStepTable(context: BenchContext, threads: SessionThreads): Promise<{ table: Table; data: unknown[] }> {
  const adam: OptimizerSettings = { kind: 'adam', learningRate: 1e-3 };
  const workloads = [
    stepWorkload(`linear, C=100, B=256, adam`, { inputDim: D, hiddenDim: 0, classCount: 100 }, 256, 130, adam),
    stepWorkload(`linear, C=10, B=256, adam`, { inputDim: D, hiddenDim: 0, classCount: 10 }, 256, 130, adam),
    stepWorkload(`linear, C=100, B=256, adam, distill K=90`, { inputDim: D, hiddenDim: 0, classCount: 100 }, 256, 130, adam, { distillation: { classCount: 90, temperature: 2, weight: 1 } }),
    stepWorkload(`hidden H=256, C=100, B=256, sgd`, { inputDim: D, hiddenDim: 256, classCount: 100 }, 256, 130, { kind: 'sgd', learningRate: 0.05 }),
  ];
  const rows: string[][] = [];
  const data: { workload: string; trainer: string; steps: number; msPerStep: number; lastLoss: number }[] = [];
  for (const workload of workloads) {
    let reference = 0;
    for (const candidate of trainersUnderTest(threads)) {
      context.log(`${workload.label}: ${candidate.label.replace('**reference**: ', '')}`);
      const trainer = candidate.make();
      try {
        const { msPerStep, loss } = await timeSteps(trainer, workload.request, candidate.steps);
        if (reference === 0) reference = msPerStep;
        rows.push([workload.label, candidate.label, String(candidate.steps), fixed(msPerStep, 2), ratio(msPerStep, reference, 3), fixed(reference / msPerStep, 0)]);
        data.push({ workload: workload.label, trainer: candidate.label, steps: candidate.steps, msPerStep, lastLoss: loss });
      } finally {
        await trainer.close();
      }
    }
  }
  return {
    table: {
      caption: 'Time per optimizer step (D=1280, synthetic embeddings); ratio = ms per step ÷ the TypeScript reference on the same workload',
      headers: ['workload', 'trainer', 'steps timed', 'ms / step', '÷ reference', 'speed-up'],
      align: ['l', 'l', 'r', 'r', 'r', 'r'],
      rows,
      reading: perStepReading(data),
    },
    data,
  };
}

/** Per-call overhead against K: the single-step graph (one run() per step) is the reference. */
async function loopSizeTable(context: BenchContext, threads: SessionThreads): Promise<{ table: Table; data: unknown[] }> {
  const adam: OptimizerSettings = { kind: 'adam', learningRate: 1e-3 };
  const steps = 256;
  const rows: string[][] = [];
  const data: unknown[] = [];
  for (const classCount of [10, 100]) {
    const workload = stepWorkload(`linear, C=${classCount}, B=256, adam`, { inputDim: D, hiddenDim: 0, classCount }, 256, steps + 2, adam);
    let reference = 0;
    for (const k of [0, 8, 64, 256]) {
      const label = k === 0 ? '**reference**: single-step graph (one run() per step)' : `Loop, K=${k}`;
      context.log(`${workload.label}: ${label.replace('**reference**: ', '')}`);
      const trainer = new OnnxTrainer('cpu', k === 0 ? { mode: 'single-step', threads } : { mode: 'loop', stepsPerCall: k, threads });
      try {
        const { msPerStep } = await timeSteps(trainer, workload.request, steps);
        if (k === 0) reference = msPerStep;
        rows.push([workload.label, label, fixed(msPerStep, 2), ratio(msPerStep, reference, 3)]);
        data.push({ workload: workload.label, stepsPerCall: k === 0 ? 1 : k, singleStepGraph: k === 0, msPerStep });
      } finally {
        await trainer.close();
      }
    }
  }
  return {
    table: {
      caption: `Steps per run() call (${steps} steps timed, ${threads.intraOp} threads); ratio = ms per step ÷ the single-step graph`,
      headers: ['workload', 'graph', 'ms / step', '÷ reference'],
      align: ['l', 'l', 'r', 'r'],
      rows,
      reading: [],
    },
    data,
  };
}

/** 30 epochs over 3,000 new samples (10 classes) plus 1,000 replayed ones (90 old classes), distilled. */
function updateWorkload(batchSize: number): TrainRequest {
  const architecture: HeadArchitecture = { inputDim: D, hiddenDim: 0, classCount: 100 };
  const count = 4000;
  const { features, labels } = syntheticFeatures(count, 100, 11);
  for (let i = 0; i < 3000; i++) labels[i] = 90 + (i % 10);
  for (let i = 3000; i < count; i++) labels[i] = i % 90;
  const rand = random(12);
  const parameters = initialParameters(architecture, 13);
  const batches = epochBatches(count, batchSize, 30, 14);
  const steps = batches.length / batchSize;
  return {
    architecture, parameters,
    optimizer: { kind: 'adam', learningRate: 1e-3, weightDecay: 1e-4 },
    loss: { distillation: { classCount: 90, temperature: 2, weight: 1 } },
    state: initialOptimizerState('adam', parameters),
    samples: { features, labels, count, teacherLogits: Float32Array.from({ length: count * 90 }, () => rand() * 3) },
    batches, batchSize,
    schedule: Float32Array.from({ length: steps }, (_, s) => 0.5 * (1 + Math.cos((Math.PI * s) / steps))),
  };
}

function updateReading(data: readonly { batchSize: number; trainer: string; seconds: number }[]): string[] {
  return [64, 256].map((batchSize) => {
    const rows = data.filter((d) => d.batchSize === batchSize);
    const reference = rows[0];
    const best = rows.slice(1).reduce<(typeof rows)[number] | undefined>((a, b) => (!a || b.seconds < a.seconds ? b : a), undefined);
    if (!reference || !best) return '';
    return `At B=${batchSize} the whole update takes ${fixed(best.seconds, 1)} s with the fastest graph (${best.trainer}), against ${fixed(reference.seconds, 0)} s for the TypeScript loops.`;
  }).filter((line) => line.length > 0);
}

async function updateTable(context: BenchContext, threads: SessionThreads): Promise<{ table: Table; data: unknown[] }> {
  const rows: string[][] = [];
  const data: { batchSize: number; steps: number; trainer: string; timedSteps: number; seconds: number; lastLoss: number | undefined }[] = [];
  for (const batchSize of [64, 256]) {
    const request = updateWorkload(batchSize);
    const steps = request.batches.length / batchSize;
    let reference = 0;
    for (const candidate of trainersUnderTest(threads)) {
      const isReference = reference === 0;
      // The reference runs 3 of the 30 epochs, scaled ×10 (its time per step does not change).
      const timed = isReference ? Math.round(steps / 10) : steps;
      context.log(`update workload B=${batchSize}: ${candidate.label.replace('**reference**: ', '')} (${timed} steps)`);
      const trainer = candidate.make();
      try {
        await trainer.train(firstSteps(request, 2));
        const t0 = performance.now();
        const result = await trainer.train(firstSteps(request, timed));
        const seconds = ((performance.now() - t0) / 1000) * (steps / timed);
        if (isReference) reference = seconds;
        rows.push([
          `30 epochs × 4,000 samples (3,000 new + 1,000 replay), B=${batchSize}, ${steps} steps`,
          candidate.label + (isReference ? ' (3 epochs ×10)' : ''),
          fixed(seconds, 2),
          ratio(seconds, reference, 3),
          fixed(result.losses[timed - 1]!, 3),
        ]);
        data.push({ batchSize, steps, trainer: candidate.label, timedSteps: timed, seconds, lastLoss: result.losses[timed - 1] });
      } finally {
        await trainer.close();
      }
    }
  }
  return {
    table: {
      caption: 'A whole update: adam, cosine schedule, distillation of 90 old classes, C=100; ratio = total ÷ the TypeScript reference',
      headers: ['workload', 'trainer', 'seconds', '÷ reference', 'loss at the last timed step'],
      align: ['l', 'l', 'r', 'r', 'r'],
      rows,
      reading: updateReading(data),
    },
    data,
  };
}

/** x̃ᵀx̃ in float32 (the variant not taken: see the table), built like linalg/gram-onnx.ts's. */
function float32GramGraph(): Uint8Array {
  const b = new GraphBuilder('keizoku_gram_float32');
  const x = b.addInput('x', 'float32', ['n', D]);
  const first = b.addNode('Slice', [x, b.int64Vector([0]), b.int64Vector([1]), b.int64Vector([1])]);
  const bias = b.addNode('Add', [b.addNode('Mul', [first, b.floatScalar(0)]), b.floatScalar(1)]);
  const tilde = b.addNode('Concat', [x, bias], { axis: attr.int(1) });
  b.addOutput(b.addNode('Gemm', [tilde, tilde], { transA: attr.int(1) }, { output: 'gram' }), 'float32', [D + 1, D + 1]);
  return b.toBytes();
}

/** The learner's chunking (analytic.ts). */
const GRAM_CHUNK = SAMPLES_PER_CHUNK;

/** x (n × d1, float64) → xᵀx: the Gram's arithmetic as one plain Gemm, the practical limit. */
function float64GemmGraph(): Uint8Array {
  const b = new GraphBuilder('keizoku_gemm_float64');
  const x = b.addInput('x', 'float64', ['n', 'd']);
  b.addOutput(b.addNode('Gemm', [x, x], { transA: attr.int(1) }, { output: 'product' }), 'float64', ['d', 'd']);
  return b.toBytes();
}

async function analyticTable(context: BenchContext, threads: SessionThreads): Promise<{ table: Table; data: unknown }> {
  const N = 3000;
  const C = 100;
  const d1 = D + 1;
  const { features, labels } = syntheticFeatures(N, C, 21);
  const repeat = 3;
  const timeMs = async (fn: () => unknown) => {
    await fn();
    const t0 = performance.now();
    for (let r = 0; r < repeat; r++) await fn();
    return (performance.now() - t0) / repeat;
  };
  const chunked = async (accumulate: typeof accumulateGramOnnx) => {
    const gram = new Float64Array(d1 * d1);
    for (let start = 0; start < N; start += GRAM_CHUNK) await accumulate(gram, features, D, start, Math.min(N, start + GRAM_CHUNK), 1);
    return gram;
  };

  context.log('analytic Gram: JS float64 (gram.ts)');
  let jsGram: Float64Array = new Float64Array(0);
  const jsMs = await timeMs(async () => (jsGram = await chunked(async (...args) => accumulateGram(...args))));
  context.log('analytic Gram: ORT float64 (gram-onnx.ts, the learner\'s)');
  let onnxGram: Float64Array = new Float64Array(0);
  const onnxMs = await timeMs(async () => (onnxGram = await chunked(accumulateGramOnnx)));
  context.log('analytic Gram: ORT float32');
  const { session } = await openSession(float32GramGraph(), 'cpu', threads);
  let f32Gram: Float64Array = new Float64Array(0);
  const f32Ms = await timeMs(async () => {
    const out = await session.run({ x: new ort.Tensor('float32', features, [N, D]) });
    f32Gram = Float64Array.from(out.gram!.data as Float32Array);
  });
  await session.release();

  context.log('analytic: plain float64 Gemm of the same size (the practical limit)');
  const gemm = await openSession(float64GemmGraph(), 'cpu', threads);
  const wide = new Float64Array(N * d1);
  for (let s = 0; s < N; s++) {
    for (let j = 0; j < D; j++) wide[s * d1 + j] = features[s * D + j]!;
    wide[s * d1 + D] = 1;
  }
  const gemmMs = await timeMs(() => gemm.session.run({ x: new ort.Tensor('float64', wide, [N, d1]) }));
  await gemm.session.release();
  context.log('analytic: the whole learner update (analyticRidge.update, from scratch)');
  const classNames = Array.from({ length: C }, (_, c) => `c${c}`);
  const added = { features, labels: Array.from(labels, (c) => `c${c}`), count: N, dim: D };
  const updateMs = await timeMs(() => analyticRidge.update(null, { classNames, added, removed: noFeatures(D) }));

  const cross = new Float64Array(d1 * C);
  for (let s = 0; s < N; s++) {
    for (let j = 0; j < D; j++) cross[j * C + labels[s]!]! += features[s * D + j]!;
    cross[D * C + labels[s]!]! += 1;
  }
  context.log('analytic solve (JS Cholesky, then blocked on ORT)');
  let weights: Float64Array = new Float64Array(0);
  const solveMs = await timeMs(async () => (weights = await solveRidge(jsGram, cross, D, C, 0.5, 'js')));
  let blockedWeights: Float64Array = new Float64Array(0);
  const blockedSolveMs = await timeMs(async () => (blockedWeights = await solveRidge(jsGram, cross, D, C, 0.5, 'onnx')));

  // Accuracy against the JS float64 result: Frobenius deviation of G (upper triangle) and of the
  // solved weights, and how many argmax predictions on the samples change.
  const frobeniusDeviation = (a: Float64Array, b: Float64Array, upperOnly: boolean, cols: number) => {
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < a.length; i++) {
      if (upperOnly && i % cols < Math.floor(i / cols)) continue;
      diff += (a[i]! - b[i]!) ** 2;
      norm += b[i]! ** 2;
    }
    return Math.sqrt(diff / norm);
  };
  const predictions = (w: Float64Array) => {
    const out = new Int32Array(N);
    for (let s = 0; s < N; s++) {
      let best = -Infinity;
      for (let c = 0; c < C; c++) {
        let score = w[D * C + c]!;
        for (let j = 0; j < D; j++) score += features[s * D + j]! * w[j * C + c]!;
        if (score > best) [best, out[s]] = [score, c];
      }
    }
    return out;
  };
  const reference = predictions(weights);
  const compare = async (gram: Float64Array) => {
    const w = await solveRidge(gram, cross, D, C, 0.5, 'js');
    const changed = predictions(w).reduce((n, p, s) => n + (p === reference[s] ? 0 : 1), 0);
    return { gram: frobeniusDeviation(gram, jsGram, true, d1), weights: frobeniusDeviation(w, weights, false, C), changed };
  };
  const onnx = await compare(onnxGram);
  const f32 = await compare(f32Gram);
  const blockedChanged = predictions(blockedWeights).reduce((n, p, s) => n + (p === reference[s] ? 0 : 1), 0);
  const blockedDeviation = frobeniusDeviation(blockedWeights, weights, false, C);
  const e = (v: number) => (v === 0 ? '0' : v.toExponential(1));
  const rows = [
    [`**reference**: Gram Σx̃x̃ᵀ, JS float64 (gram.ts), N=${N} in chunks of ${GRAM_CHUNK}, D+1=${d1}`, fixed(jsMs, 0), '1.00×', '0', '0', '0'],
    [`Gram, ORT Gemm float64 (gram-onnx.ts, used by the learner), ${threads.intraOp} threads`, fixed(onnxMs, 0), ratio(onnxMs, jsMs), e(onnx.gram), e(onnx.weights), String(onnx.changed)],
    [`Gram, ORT Gemm float32, all ${N} at once, ${threads.intraOp} threads (not used: not exact)`, fixed(f32Ms, 0), ratio(f32Ms, jsMs), e(f32.gram), e(f32.weights), String(f32.changed)],
    [`Solve (G+λI)W=B for C=${C}: JS Cholesky float64 and triangular solves`, fixed(solveMs, 0), ratio(solveMs, jsMs), '–', '0', '0'],
    [`Solve, blocked Cholesky (b=${CHOLESKY_BLOCK}) with trailing updates as ORT Gemm float64 (cholesky-onnx.ts, used by the learner; ONNX has no Cholesky op)`, fixed(blockedSolveMs, 0), ratio(blockedSolveMs, jsMs), '–', e(blockedDeviation), String(blockedChanged)],
    [`Whole analytic update from cached embeddings: \`analyticRidge.update\` from scratch (Gram, class sums, blocked Cholesky, blocked triangular solves)`, fixed(updateMs, 0), ratio(updateMs, jsMs), '–', '–', '–'],
    [`Practical limit: one plain float64 Gemm of the Gram's size (${N}×${d1})ᵀ·(${N}×${d1}) on ORT, ${threads.intraOp} threads`, fixed(gemmMs, 0), ratio(gemmMs, jsMs), '–', '–', '–'],
  ];
  return {
    table: {
      caption: 'Analytic learner update: Gram accumulation and solve; ratio = ms ÷ the JS float64 Gram',
      headers: ['step', 'ms', '÷ reference', '‖ΔG‖/‖G‖', '‖ΔW‖/‖W‖', `predictions changed (of ${N})`],
      align: ['l', 'r', 'r', 'r', 'r', 'r'],
      rows,
      reading: [
        `The learner keeps float64 statistics so that updates and removals equal joint training; the float64 Gemm keeps that ` +
          `(deviations are summation-order rounding) at ${ratio(onnxMs, jsMs)} the JS time, so the learner uses it. ` +
          `Float32 accumulation is faster but moves the solved weights by ${e(f32.weights)} and is not used. ` +
          `The blocked factorization takes ${ratio(blockedSolveMs, solveMs)} the time of the JS solve (${fixed(blockedSolveMs, 0)} against ${fixed(solveMs, 0)} ms), ` +
          `weights equal to ${e(blockedDeviation)}; the whole update of ${N} samples, ${C} classes from cached embeddings takes ${fixed(updateMs, 0)} ms, ` +
          `${ratio(updateMs, gemmMs)} the time of one plain float64 Gemm of the Gram's size (${fixed(gemmMs, 0)} ms), which is the floor for exact float64 statistics.`,
      ],
    },
    data: { N, D, C, jsMs, onnxMs, f32Ms, solveMs, blockedSolveMs, blockedDeviation, blockedChanged, onnx, f32, updateMs, gemmMs },
  };
}

export async function trainingBench(context: BenchContext): Promise<SectionOutput> {
  const threads = defaultThreads();
  const perStep = await perStepTable(context, threads);
  const loopSize = await loopSizeTable(context, threads);
  const update = await updateTable(context, threads);
  const analytic = await analyticTable(context, threads);
  return {
    title: 'Training steps and analytic update',
    method:
      `Synthetic embeddings shaped like the backbone's (D=${D}, non-negative, one cluster per class, L2-normalized), 3,000 samples ` +
      `(4,000 for the update workload). Each trainer gets the same requests (head-trainer.ts contract); the TypeScript reference runs ` +
      `a few steps (its time per step is steady), the ONNX Runtime graphs run many; every trainer first runs 2 untimed steps, which ` +
      `build and cache its session. ONNX on device cpu with ${threads.intraOp} intra-op threads (the product default) and with 1. ` +
      `The analytic rows time one accumulation of Σx̃x̃ᵀ over 3,000 samples in the learner's chunks of ${GRAM_CHUNK} (mean of 3 after a warm-up) and compare the ridge ` +
      `predictions of each Gram's solution with the float64 one on the same samples.`,
    tables: [perStep.table, loopSize.table, update.table, analytic.table],
    data: { threads, perStep: perStep.data, loopSize: loopSize.data, update: update.data, analytic: analytic.data },
  };
}
