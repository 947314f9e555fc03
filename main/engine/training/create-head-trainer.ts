// Picks the trainer for a --device choice: ONNX Runtime graphs on the requested provider, else on
// CPU (saying why), else the TypeScript reference trainer (saying why), so training always runs.
import * as ort from 'onnxruntime-node';
import { defaultThreads, openSession, type DeviceChoice, type DeviceReport } from '../runtime/devices.js';
import { buildSingleStepGraph, TRAIN_GRAPH_NAMES as N } from './graph/train-step.js';
import type { HeadTrainer } from './head-trainer.js';
import { OnnxTrainer, type OnnxTrainerOptions } from './onnx-trainer.js';
import { TypeScriptTrainer } from './typescript-trainer.js';

export interface CreatedHeadTrainer {
  readonly trainer: HeadTrainer;
  readonly report: DeviceReport;
}

export async function createHeadTrainer(device: DeviceChoice, options: OnnxTrainerOptions = {}): Promise<CreatedHeadTrainer> {
  const threads = options.threads ?? defaultThreads();
  let report: DeviceReport;
  try {
    report = await probe(device, threads);
  } catch (error) {
    const reason = `ONNX Runtime could not run a training graph (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); training runs in TypeScript`;
    return { trainer: new TypeScriptTrainer(), report: { requested: device, device: 'cpu', fallbackReason: reason } };
  }
  return { trainer: new OnnxTrainer(report.device, { ...options, threads }), report };
}

/**
 * Creates and runs a tiny train-step graph on the requested device (openSession falls back to
 * CPU with the reason when the provider cannot load); a provider that loads but fails to run the
 * graph falls back to CPU too.
 */
async function probe(device: DeviceChoice, threads: ReturnType<typeof defaultThreads>): Promise<DeviceReport> {
  const graph = buildSingleStepGraph({ architecture: { inputDim: 2, hiddenDim: 0, classCount: 2 }, optimizer: 'sgd', batchSize: 1, distillationClasses: 0 }).toBytes();
  const zeros = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  const feeds = {
    [N.parameter(0)]: zeros([2, 2]), [N.parameter(1)]: zeros([2]),
    [N.moment(0)]: zeros([2, 2]), [N.moment(1)]: zeros([2]),
    [N.features]: zeros([1, 2]), [N.labels]: new ort.Tensor('int32', Int32Array.of(1), [1]), [N.weights]: zeros([1]),
    [N.hyper('learningRate')]: zeros([]), [N.hyper('weightDecay')]: zeros([]), [N.hyper('momentum')]: zeros([]),
  };
  const opened = await openSession(graph, device, threads);
  try {
    await opened.session.run(feeds);
    return opened.report;
  } catch (error) {
    if (opened.report.device === 'cpu') throw error;
    const reason = `${opened.report.device} could not run the training graph: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    const cpu = await openSession(graph, 'cpu', threads);
    try {
      await cpu.session.run(feeds);
    } finally {
      await cpu.session.release();
    }
    return { requested: device, device: 'cpu', fallbackReason: reason };
  } finally {
    await opened.session.release();
  }
}
