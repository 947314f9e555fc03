// HeadTrainer on ONNX Runtime: the train-step graphs of graph/train-step.ts, built once per
// structure and cached, run on the trainer's execution provider. Parameters and optimizer state
// travel in and out as tensors on every call; in Loop mode a call runs up to K steps, so a request
// of S steps costs ceil(S/K) calls.
import * as ort from 'onnxruntime-node';
import { defaultThreads, openSession, type Device, type SessionThreads } from '../runtime/devices.js';
import { buildLoopGraph, buildSingleStepGraph, hyperInputNames, TRAIN_GRAPH_NAMES as N, type TrainGraphSpec } from './graph/train-step.js';
import { parameterShapes, validateTrainRequest, type HeadTrainer, type TrainRequest, type TrainResult } from './head-trainer.js';

export type TrainGraphMode = 'loop' | 'single-step';

export interface OnnxTrainerOptions {
  /** 'loop' (default): K steps per run(); 'single-step': one run() per step (for comparison). */
  readonly mode?: TrainGraphMode;
  /** K, steps per Loop call; default 64 (per-call overhead is then well under 1 % of a step at D=1280). */
  readonly stepsPerCall?: number;
  readonly threads?: SessionThreads;
}

export const DEFAULT_STEPS_PER_CALL = 64;

export class OnnxTrainer implements HeadTrainer {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly mode: TrainGraphMode;
  private readonly stepsPerCall: number;
  private readonly threads: SessionThreads;

  /** `device` is a resolved provider (see createHeadTrainer, which picks it and reports why). */
  constructor(
    readonly device: Device,
    options: OnnxTrainerOptions = {},
  ) {
    this.mode = options.mode ?? 'loop';
    this.stepsPerCall = options.stepsPerCall ?? DEFAULT_STEPS_PER_CALL;
    if (!(Number.isInteger(this.stepsPerCall) && this.stepsPerCall > 0)) throw new Error('stepsPerCall must be a positive integer');
    this.threads = options.threads ?? defaultThreads();
  }

  async train(request: TrainRequest, signal?: AbortSignal): Promise<TrainResult> {
    const { steps } = validateTrainRequest(request);
    const spec: TrainGraphSpec = {
      architecture: request.architecture,
      optimizer: request.optimizer.kind,
      batchSize: request.batchSize,
      distillationClasses: request.loss.distillation?.classCount ?? 0,
    };
    let parameters: Float32Array[] = request.parameters.map((p) => Float32Array.from(p));
    let moments: Float32Array[] = request.state.moments.map((m) => Float32Array.from(m));
    const losses = new Float32Array(steps);
    const session = await this.session(spec);
    const constant = constantFeeds(request, spec);
    const samples = this.mode === 'loop' ? sampleFeeds(request, spec) : {};
    const batch = this.mode === 'single-step' ? new BatchGatherer(request, spec) : undefined;
    const rate = (s: number) => request.optimizer.learningRate * (request.schedule?.[s] ?? 1);
    const chunk = this.mode === 'loop' ? this.stepsPerCall : 1;
    for (let start = 0; start < steps; start += chunk) {
      signal?.throwIfAborted();
      const n = Math.min(chunk, steps - start);
      const feeds: Record<string, ort.Tensor> = { ...constant, ...samples, ...stateFeeds(parameters, moments, request) };
      if (batch) {
        Object.assign(feeds, batch.feeds(start));
        feeds[N.hyper('learningRate')] = scalar(rate(start));
        if (spec.optimizer !== 'sgd') feeds[N.hyper('step')] = scalar(request.state.step + start + 1);
      } else {
        const B = request.batchSize;
        feeds[N.tripCount] = new ort.Tensor('int64', BigInt64Array.of(BigInt(n)), []);
        feeds[N.batches] = new ort.Tensor('int32', request.batches.subarray(start * B, (start + n) * B), [n, B]);
        feeds[N.learningRates] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, k) => rate(start + k)), [n]);
        feeds[N.stepsBefore] = scalar(request.state.step + start);
      }
      const out = await session.run(feeds);
      parameters = parameters.map((_, i) => out[N.newParameter(i)]!.data as Float32Array);
      moments = moments.map((_, i) => out[N.newMoment(i)]!.data as Float32Array);
      losses.set(out[batch ? N.loss : N.losses]!.data as Float32Array, start);
    }
    return { parameters, state: { moments, step: request.state.step + steps }, losses };
  }

  /** Sessions built so far (one per graph structure). */
  get cachedGraphCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    const pending = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of await Promise.allSettled(pending)) if (session.status === 'fulfilled') await session.value.release();
  }

  /** One session per graph structure; hyper-parameter values and step counts are inputs. */
  private session(spec: TrainGraphSpec): Promise<ort.InferenceSession> {
    const { inputDim, hiddenDim, classCount } = spec.architecture;
    const key = [inputDim, hiddenDim, classCount, spec.optimizer, spec.distillationClasses, spec.batchSize, this.mode, this.stepsPerCall].join('|');
    let session = this.sessions.get(key);
    if (!session) {
      const graph = this.mode === 'loop' ? buildLoopGraph(spec) : buildSingleStepGraph(spec);
      session = openSession(graph.toBytes(), this.device, this.threads).then((opened) => opened.session);
      session.catch(() => this.sessions.delete(key));
      this.sessions.set(key, session);
    }
    return session;
  }
}

function scalar(value: number): ort.Tensor {
  return new ort.Tensor('float32', Float32Array.of(value), []);
}

function stateFeeds(parameters: readonly Float32Array[], moments: readonly Float32Array[], request: TrainRequest): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const shapes = parameterShapes(request.architecture);
  parameters.forEach((p, i) => (feeds[N.parameter(i)] = new ort.Tensor('float32', p, shapes[i]!)));
  moments.forEach((m, i) => (feeds[N.moment(i)] = new ort.Tensor('float32', m, shapes[i % shapes.length]!)));
  return feeds;
}

/** Hyper-parameters that stay the same for the whole request. */
function constantFeeds(request: TrainRequest, spec: TrainGraphSpec): Record<string, ort.Tensor> {
  const o = request.optimizer;
  const kd = request.loss.distillation;
  const values: Record<string, number> = {
    [N.hyper('weightDecay')]: o.weightDecay ?? 0,
    [N.hyper('momentum')]: o.momentum ?? 0.9,
    [N.hyper('beta1')]: o.beta1 ?? 0.9,
    [N.hyper('beta2')]: o.beta2 ?? 0.999,
    [N.hyper('epsilon')]: o.epsilon ?? 1e-8,
    [N.temperature]: kd?.temperature ?? 1,
    [N.distillationWeight]: kd?.weight ?? 0,
  };
  return Object.fromEntries(hyperInputNames(spec).map((name) => [name, scalar(values[name]!)]));
}

function sampleWeights(request: TrainRequest): Float32Array {
  return request.samples.weights ?? new Float32Array(request.samples.count).fill(1);
}

/** Loop mode: all samples go in once per call (wrapped, not copied); batches index into them. */
function sampleFeeds(request: TrainRequest, spec: TrainGraphSpec): Record<string, ort.Tensor> {
  const { samples } = request;
  const feeds: Record<string, ort.Tensor> = {
    [N.features]: new ort.Tensor('float32', samples.features, [samples.count, request.architecture.inputDim]),
    [N.labels]: new ort.Tensor('int32', samples.labels, [samples.count]),
    [N.weights]: new ort.Tensor('float32', sampleWeights(request), [samples.count]),
  };
  if (spec.distillationClasses > 0) {
    feeds[N.teacherLogits] = new ort.Tensor('float32', samples.teacherLogits!, [samples.count, spec.distillationClasses]);
  }
  return feeds;
}

/** Single-step mode: copies step s's batch rows out of the samples. */
class BatchGatherer {
  private readonly d: number;
  private readonly k: number;
  private readonly weights: Float32Array;

  constructor(
    private readonly request: TrainRequest,
    spec: TrainGraphSpec,
  ) {
    this.d = request.architecture.inputDim;
    this.k = spec.distillationClasses;
    this.weights = sampleWeights(request);
  }

  feeds(step: number): Record<string, ort.Tensor> {
    const { samples, batchSize: B } = this.request;
    const rows = this.request.batches.subarray(step * B, (step + 1) * B);
    const features = new Float32Array(B * this.d);
    const labels = new Int32Array(B);
    const weights = new Float32Array(B);
    const teacher = new Float32Array(B * this.k);
    rows.forEach((n, i) => {
      features.set(samples.features.subarray(n * this.d, (n + 1) * this.d), i * this.d);
      labels[i] = samples.labels[n]!;
      weights[i] = this.weights[n]!;
      if (this.k > 0) teacher.set(samples.teacherLogits!.subarray(n * this.k, (n + 1) * this.k), i * this.k);
    });
    const feeds: Record<string, ort.Tensor> = {
      [N.features]: new ort.Tensor('float32', features, [B, this.d]),
      [N.labels]: new ort.Tensor('int32', labels, [B]),
      [N.weights]: new ort.Tensor('float32', weights, [B]),
    };
    if (this.k > 0) feeds[N.teacherLogits] = new ort.Tensor('float32', teacher, [B, this.k]);
    return feeds;
  }
}
