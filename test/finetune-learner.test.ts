// The finetune learner on real cut activations of real photos (the default backbone split before its
// last inverted-residual block): it learns, keeps old classes through its latent buffer, forgets
// removed samples, rolls back exactly through its stored state, and its exported graph scores
// exactly as predict does.
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBackbone } from '../main/engine/backbones/resolve.js';
import { MOBILENET_V2_DEFAULT_CUT, splitBackbone } from '../main/engine/finetune/backbone-split.js';
import { preprocessImage } from '../main/engine/images/preprocess.js';
import { argmaxClassNames } from '../main/engine/evaluation/accuracy-report.js';
import { finetuneLearner } from '../main/engine/learners/finetune/learner.js';
import type { FinetuneState } from '../main/engine/learners/finetune/state.js';
import { LearnerInputError, noFeatures, type BackboneTop, type LabeledFeatures } from '../main/engine/learners/index.js';
import { GraphBuilder } from '../main/engine/onnx/graph-builder.js';
import { CORAL_DIR } from './support/paths.js';
import { TEST_CACHE_DIR } from './support/project.js';
import { photo } from './reliability/support/state.js';

const CLASSES = ['airplanes', 'bonsai', 'chair', 'ketch'];
const TRAIN_PER_CLASS = 10;
const DIM = 160 * 7 * 7;
let backboneTop: BackboneTop;
let train: Record<string, LabeledFeatures>;
let test: LabeledFeatures;

async function activations(bottom: ort.InferenceSession, inputName: string, files: string[], labels: string[], preprocessing: Parameters<typeof preprocessImage>[1]): Promise<LabeledFeatures> {
  const { height, width } = preprocessing;
  const pixels = new Float32Array(files.length * 3 * height * width);
  for (const [i, file] of files.entries()) {
    const prepared = await preprocessImage(readFileSync(file), preprocessing);
    if (!prepared.ok) throw new Error(prepared.reason);
    pixels.set(prepared.pixels, i * 3 * height * width);
  }
  const out = await bottom.run({ [inputName]: new ort.Tensor('float32', pixels, [files.length, 3, height, width]) });
  return { features: out[MOBILENET_V2_DEFAULT_CUT]!.data as Float32Array, labels, count: files.length, dim: DIM, keys: files };
}

function rows(parts: LabeledFeatures[]): LabeledFeatures {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const features = new Float32Array(count * DIM);
  let at = 0;
  for (const p of parts) {
    features.set(p.features, at * DIM);
    at += p.count;
  }
  return { features, labels: parts.flatMap((p) => p.labels), count, dim: DIM, keys: parts.flatMap((p) => p.keys ?? []) };
}

beforeAll(async () => {
  const backbone = await resolveBackbone('mobilenet-v2-1.0-224-quant', { cacheDir: TEST_CACHE_DIR, mirrorDir: CORAL_DIR, allowDownload: false });
  const model = onnxProto.onnx.ModelProto.decode(readFileSync(backbone.onnxPath));
  const split = splitBackbone(model, { inputName: backbone.inputName, featuresName: backbone.featuresName, cut: MOBILENET_V2_DEFAULT_CUT });
  backboneTop = { model: onnxProto.onnx.ModelProto.encode(split.top).finish(), input: MOBILENET_V2_DEFAULT_CUT, output: backbone.featuresName, cutShape: [160, 7, 7], featureDim: 1280 };
  const bottom = await ort.InferenceSession.create(onnxProto.onnx.ModelProto.encode(split.bottom).finish(), { intraOpNumThreads: 2, interOpNumThreads: 1 });
  try {
    train = {};
    for (const name of CLASSES) {
      const files = Array.from({ length: TRAIN_PER_CLASS }, (_, i) => photo(name, i));
      train[name] = await activations(bottom, backbone.inputName, files, files.map(() => name), backbone.preprocessing);
    }
    const testFiles = CLASSES.flatMap((name) => [0, 1, 2].map((i) => photo(name, i, 'test')));
    test = await activations(bottom, backbone.inputName, testFiles, CLASSES.flatMap((name) => [name, name, name]), backbone.preprocessing);
  } finally {
    await bottom.release();
  }
}, 120_000);

async function accuracy(state: FinetuneState, data: LabeledFeatures): Promise<number> {
  const predicted = argmaxClassNames(await finetuneLearner.predict(state, data.features, data.count), data.count, state.classNames);
  return predicted.filter((name, i) => name === data.labels[i]).length / data.count;
}

describe('finetune learner', () => {
  let first: FinetuneState;
  let second: FinetuneState;

  it('tunes the top (its loss falls), then adds classes without losing the old ones', async () => {
    const hyperParameters = { epochs: 3, learningRate: 3e-4 };
    first = await finetuneLearner.update(
      null,
      { classNames: ['airplanes', 'bonsai'], added: rows([train.airplanes!, train.bonsai!]), removed: noFeatures(DIM) },
      { backboneTop, hyperParameters },
    );
    expect(first.training.steps).toBe(3); // 20 rows, batches of 32, 3 epochs
    expect(first.training.lastEpochLoss!).toBeLessThan(first.training.firstEpochLoss!);
    const original = (await finetuneLearner.update(null, { classNames: ['airplanes', 'bonsai'], added: noFeatures(DIM), removed: noFeatures(DIM) }, { backboneTop })).top;
    expect(first.top.parameters.some((p, i) => p.data.some((v, j) => v !== original.parameters[i]!.data[j]))).toBe(true);

    second = await finetuneLearner.update(
      first,
      { classNames: ['airplanes', 'bonsai', 'chair', 'ketch'], added: rows([train.chair!, train.ketch!]), removed: noFeatures(DIM) },
      { hyperParameters },
    );
    expect(second.buffer).toHaveLength(40);
    expect(second.training.rows).toBe(40); // 20 new + 20 replayed (replayRatio 1)
    const onOld = rows([train.airplanes!, train.bonsai!]);
    expect(await accuracy(second, onOld)).toBe(1);
    expect(await accuracy(second, test)).toBeGreaterThanOrEqual(0.75);
  }, 300_000);

  it('rolls back exactly: a stored state predicts bit-identically and continues the same', async () => {
    const restored = finetuneLearner.deserialize(finetuneLearner.serialize(second));
    expect(Array.from(await finetuneLearner.predict(restored, test.features, test.count))).toEqual(Array.from(await finetuneLearner.predict(second, test.features, test.count)));
    expect(restored.buffer.map((e) => e.key)).toEqual(second.buffer.map((e) => e.key));
    expect(() => finetuneLearner.deserialize(finetuneLearner.serialize(second).slice(0, -3))).toThrow();
  });

  it('forgets removed samples and removed classes', async () => {
    const removed = { ...train.ketch!, count: 4, labels: train.ketch!.labels.slice(0, 4), keys: train.ketch!.keys!.slice(0, 4), features: train.ketch!.features.subarray(0, 4 * DIM) };
    const next = await finetuneLearner.update(second, { classNames: second.classNames, added: noFeatures(DIM), removed }, {});
    expect(next.buffer).toHaveLength(36);
    expect(next.training.steps).toBe(0); // nothing new: only the head is refit
    const withoutChairs = await finetuneLearner.update(second, { classNames: ['airplanes', 'bonsai', 'ketch'], added: noFeatures(DIM), removed: train.chair! }, {});
    expect(withoutChairs.buffer.some((e) => e.className === 'chair')).toBe(false);
    expect(withoutChairs.classNames).toEqual(['airplanes', 'bonsai', 'ketch']);
  }, 120_000);

  it('keeps its buffer within the byte budget, every class represented', async () => {
    const perEntry = second.buffer[0]!.activation.byteLength;
    const budgetMb = (perEntry * 13) / 1e6;
    const small = await finetuneLearner.update(second, { classNames: second.classNames, added: noFeatures(DIM), removed: noFeatures(DIM) }, { hyperParameters: { bufferMegabytes: budgetMb } });
    expect(small.buffer.length).toBeLessThanOrEqual(13);
    expect(new Set(small.buffer.map((e) => e.className)).size).toBe(4);
  }, 120_000);

  it('exports graph nodes that score exactly as predict', async () => {
    const b = new GraphBuilder('export-check');
    b.addInput('x', 'float32', ['N', DIM]);
    const scores = finetuneLearner.exportScores(second, b, 'x', DIM);
    b.addNode('Identity', [scores], {}, { output: 'scores' });
    b.addOutput('scores', 'float32', ['N', second.classNames.length]);
    const session = await ort.InferenceSession.create(b.toBytes());
    try {
      const exported = (await session.run({ x: new ort.Tensor('float32', test.features, [test.count, DIM]) })).scores!.data as Float32Array;
      const predicted = await finetuneLearner.predict(second, test.features, test.count);
      let worst = 0;
      for (let i = 0; i < predicted.length; i++) worst = Math.max(worst, Math.abs(exported[i]! - predicted[i]!));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await session.release();
    }
  });

  it('refuses what it cannot learn from', async () => {
    await expect(finetuneLearner.update(null, { classNames: ['a'], added: noFeatures(DIM), removed: noFeatures(DIM) }, {})).rejects.toThrow(LearnerInputError);
    await expect(finetuneLearner.update(null, { classNames: ['a'], added: noFeatures(DIM), removed: noFeatures(DIM) }, { backboneTop, hyperParameters: { learningRate: -1 } })).rejects.toThrow(/learningRate/);
    await expect(finetuneLearner.update(null, { classNames: ['a'], added: { features: new Float32Array(10), labels: ['a'], count: 1, dim: 10 }, removed: noFeatures(10) }, { backboneTop })).rejects.toThrow(/7840-wide/);
  });
});
