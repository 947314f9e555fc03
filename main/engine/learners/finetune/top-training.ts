// Fine-tunes the top layers and a linear head together on cached activations: mini-batch Adam
// steps, each one run of the training-step graph (graphs.ts) in ONNX Runtime. Batches are drawn
// in a seeded order, so the same previous version and delta give the same weights.
import * as ort from 'onnxruntime-node';
import { seededRandom, shuffleInPlace } from '../seeded-random.js';
import { buildTrainStepGraph, FINETUNE_GRAPH_NAMES as N, trainedShapes } from './graphs.js';
import type { SessionOpener } from './top-features.js';
import type { TopNetwork } from './top-network.js';

export interface TopTrainingRequest {
  readonly top: TopNetwork;
  /** Head the training starts from: weights [featureDim, K] row-major, bias [K]. */
  readonly headWeights: Float32Array;
  readonly headBias: Float32Array;
  /** Flattened activations, one row per sample, and each row's class index. */
  readonly rows: Float32Array;
  readonly labels: Int32Array;
  /** Per row: the previous top's unit features [rows × featureDim], and whether the row is an old
   * (replayed) one that feature distillation holds to them. */
  readonly previousUnitFeatures: Float32Array;
  readonly distilled: Uint8Array;
  readonly distillationWeight: number;
  readonly classCount: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly logitScale: number;
  readonly seed: number;
  readonly open: SessionOpener;
  readonly signal?: AbortSignal | undefined;
  /** Called after every step with steps done and the total. */
  readonly onStep?: (done: number, total: number) => void;
}

export interface TopTrainingResult {
  /** The top's new parameters, in TopNetwork.parameters order. */
  readonly topParameters: Float32Array[];
  readonly steps: number;
  /** Mean loss of the first and of the last epoch (before each step's update). */
  readonly firstEpochLoss: number;
  readonly lastEpochLoss: number;
}

export async function trainTop(request: TopTrainingRequest): Promise<TopTrainingResult> {
  const { top, rows, labels, classCount, batchSize } = request;
  const count = labels.length;
  const [c, h, w] = top.cutShape;
  const dim = c * h * w;
  const shapes = trainedShapes(top, classCount);
  let parameters: Float32Array[] = [...top.parameters.map((p) => p.data), request.headWeights, request.headBias];
  let moments: Float32Array[] = [...shapes, ...shapes].map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  const stepsPerEpoch = Math.ceil(count / batchSize);
  const total = stepsPerEpoch * request.epochs;
  if (total === 0) return { topParameters: parameters.slice(0, top.parameters.length), steps: 0, firstEpochLoss: NaN, lastEpochLoss: NaN };

  const session = await request.open(buildTrainStepGraph(top, { batchSize, classCount, logitScale: request.logitScale }));
  const batchRows = new Float32Array(batchSize * dim);
  const targets = new Float32Array(batchSize * classCount);
  const previous = new Float32Array(batchSize * top.featureDim);
  const distilledRows = new Float32Array(batchSize);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  const random = seededRandom(request.seed);
  const epochLosses: number[] = [];
  let step = 0;
  try {
    for (let epoch = 0; epoch < request.epochs; epoch++) {
      shuffleInPlace(order, random);
      let lossSum = 0;
      for (let start = 0; start < count; start += batchSize) {
        request.signal?.throwIfAborted();
        const real = Math.min(batchSize, count - start);
        batchRows.fill(0);
        targets.fill(0);
        previous.fill(0);
        distilledRows.fill(0);
        for (let r = 0; r < real; r++) {
          const sample = order[start + r]!;
          batchRows.set(rows.subarray(sample * dim, (sample + 1) * dim), r * dim);
          targets[r * classCount + labels[sample]!] = 1;
          previous.set(request.previousUnitFeatures.subarray(sample * top.featureDim, (sample + 1) * top.featureDim), r * top.featureDim);
          distilledRows[r] = request.distilled[sample]!;
        }
        step++;
        const feeds: Record<string, ort.Tensor> = {
          [N.activations]: new ort.Tensor('float32', batchRows, [batchSize, dim]),
          [N.targets]: new ort.Tensor('float32', targets, [batchSize, classCount]),
          [N.inverseCount]: scalar(1 / real),
          [N.learningRate]: scalar(request.learningRate),
          [N.step]: scalar(step),
          [N.previousFeatures]: new ort.Tensor('float32', previous, [batchSize, top.featureDim]),
          [N.distillationRows]: new ort.Tensor('float32', distilledRows, [batchSize, 1]),
          [N.distillationWeight]: scalar(request.distillationWeight),
        };
        parameters.forEach((values, i) => (feeds[N.parameter(i)] = new ort.Tensor('float32', values, shapes[i]!)));
        moments.forEach((values, i) => (feeds[N.moment(i)] = new ort.Tensor('float32', values, shapes[i % shapes.length]!)));
        const result = await session.run(feeds);
        lossSum += (result[N.loss]!.data as Float32Array)[0]! * real;
        parameters = parameters.map((_, i) => result[N.newParameter(i)]!.data as Float32Array);
        moments = moments.map((_, i) => result[N.newMoment(i)]!.data as Float32Array);
        request.onStep?.(step, total);
      }
      epochLosses.push(lossSum / count);
    }
  } finally {
    await session.release();
  }
  return {
    topParameters: parameters.slice(0, top.parameters.length),
    steps: step,
    firstEpochLoss: epochLosses[0]!,
    lastEpochLoss: epochLosses[epochLosses.length - 1]!,
  };
}

function scalar(value: number): ort.Tensor {
  return new ort.Tensor('float32', Float32Array.of(value), []);
}
