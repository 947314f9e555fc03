// `keizoku export`: one ONNX file (backbone + head + calibrated softmax) that plain ONNX Runtime
// runs with the same scores and confidences as `keizoku predict`, for every learner.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { ExportResultSchema, PredictResultSchema } from '../main/engine/api/contract.js';
import { runExport, type LabelsFile } from '../main/engine/export/export-model.js';
import { preprocessImage } from '../main/engine/images/index.js';
import { runPredict } from '../main/engine/use-cases/predict.js';
import { Project, type ProjectOptions } from '../main/engine/project/project.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { CALTECH_DIR, CORAL_DIR } from './support/paths.js';
import { addCaltechClasses, runCli, tempDir, TEST_CACHE_DIR } from './support/project.js';

const CLASSES = ['airplanes', 'butterfly', 'chair', 'ketch'];
const open = (root: string, extra: Partial<ProjectOptions> = {}) =>
  Project.open({ root, modelDir: CORAL_DIR, cacheDir: TEST_CACHE_DIR, device: 'cpu', ...extra });

async function withProject<T>(root: string, extra: Partial<ProjectOptions>, work: (project: Project) => Promise<T>): Promise<T> {
  const project = open(root, extra);
  try {
    return await work(project);
  } finally {
    project.close();
  }
}

const testImages = CLASSES.flatMap((name) =>
  readdirSync(path.join(CALTECH_DIR, 'test', name)).sort().slice(0, 3).map((file) => path.join(CALTECH_DIR, 'test', name, file)),
);

/** Runs the exported file on the test images exactly as a third party would: labels.json says how. */
async function runExported(modelPath: string, labels: LabelsFile) {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  try {
    const [, , height, width] = labels.input.shape as number[];
    const prep = { height: height!, width: width!, mean: labels.input.mean as [number, number, number], std: labels.input.std as [number, number, number] };
    const perImage = 3 * height! * width!;
    const pixels = new Float32Array(testImages.length * perImage);
    for (const [i, file] of testImages.entries()) {
      const result = await preprocessImage(readFileSync(file), prep);
      if (!result.ok) throw new Error(result.reason);
      pixels.set(result.pixels, i * perImage);
    }
    const outputs = await session.run({ [labels.input.name]: new ort.Tensor('float32', pixels, [testImages.length, 3, height!, width!]) });
    return {
      outputNames: session.outputNames,
      scores: outputs[labels.outputs.scores]!,
      probabilities: outputs[labels.outputs.probabilities]!,
    };
  } finally {
    await session.release();
  }
}

describe('export', () => {
  const root = tempDir();
  addCaltechClasses(root, CLASSES, { limit: 15 });

  for (const learner of ['analytic', 'ncm', 'replay', 'finetune']) {
    it(`${learner}: the exported model gives predict's scores and confidences`, async () => {
      await withProject(root, { learner }, (project) => runUpdate(project));
      const out = path.join(tempDir('keizoku-export-'), `${learner}.onnx`);
      const result = ExportResultSchema.parse(await withProject(root, {}, (project) => runExport(project, out)));
      const labels = JSON.parse(readFileSync(result.labels, 'utf8')) as LabelsFile;
      expect(labels.classNames).toEqual(result.classNames);
      expect([...labels.classNames].sort()).toEqual(CLASSES);
      expect(labels.learner).toBe(learner);
      expect(result.temperature).not.toBe(1); // fitted on held-out samples at update time

      const model = onnxProto.onnx.ModelProto.decode(readFileSync(out));
      const metadata = Object.fromEntries(model.metadataProps.map((entry) => [entry.key, entry.value]));
      expect(JSON.parse(metadata['keizoku.class_names']!)).toEqual(result.classNames);

      const exported = await runExported(out, labels);
      expect([...exported.outputNames].sort()).toEqual(['features', 'probabilities', 'scores']); // no ImageNet classifier left
      const C = CLASSES.length;
      expect(exported.scores.dims).toEqual([testImages.length, C]);

      const predicted = PredictResultSchema.parse(await withProject(root, {}, (project) => runPredict(project, testImages, C)));
      expect(predicted.predictions).toHaveLength(testImages.length);
      let correct = 0;
      for (const [i, prediction] of predicted.predictions.entries()) {
        const scores = exported.scores.data as Float32Array;
        const probabilities = exported.probabilities.data as Float32Array;
        for (const entry of prediction.top) {
          const column = labels.classNames.indexOf(entry.className);
          expect(scores[i * C + column]!).toBeCloseTo(entry.score, 4);
          expect(probabilities[i * C + column]!).toBeCloseTo(entry.confidence, 4);
        }
        const row = Array.from(scores.subarray(i * C, (i + 1) * C));
        expect(labels.classNames[row.indexOf(Math.max(...row))]).toBe(prediction.top[0]!.className);
        if (testImages[i]!.includes(`${path.sep}${prediction.top[0]!.className}${path.sep}`)) correct++;
      }
      expect(correct / testImages.length).toBeGreaterThan(0.8);
    });
  }

  it('keizoku export --json prints its documented object; without --out it is a usage error', () => {
    const out = path.join(tempDir('keizoku-export-'), 'model.onnx');
    const result = runCli(['export', '--root', root, '--out', out, '--json']);
    expect(result.status, result.stderr).toBe(0);
    const json = ExportResultSchema.parse(result.json());
    expect(json.out).toBe(out);
    expect(json.bytes).toBe(readFileSync(out).byteLength);
    const missing = runCli(['export', '--root', root, '--json']);
    expect(missing.status).toBe(2);
    expect(missing.json().error.code).toBe('usage');
  });
});
