import path from 'node:path';
import type { PredictResult } from '../api/contract.js';
import { versionTemperature } from '../evaluation/confidence.js';
import { confidences } from '../evaluation/calibration.js';
import { embedFilesCached } from '../embedding/embed-files-cached.js';
import { FeatureRuntime } from '../runtime/feature-runtime.js';
import { loadHeadModel } from './head-model.js';
import type { Project } from '../project/project.js';

export type HeadModel = Awaited<ReturnType<typeof loadHeadModel>>;

/** Top-k classes for each image file, from the head version. */
export async function runPredict(project: Project, files: readonly string[], top = 5): Promise<PredictResult> {
  const started = performance.now();
  const model = await loadHeadModel(project);
  const runtime = new FeatureRuntime(model.backbone, project.options.device ?? 'auto');
  try {
    return await predictWithModel(project, model, runtime, files, { top }, started);
  } finally {
    await runtime.close();
  }
}

/** What a prediction is asked for besides its files. */
export interface PredictOptions {
  top: number;
  /** false: do not add these images' embeddings to the cache (camera frames, never seen again) */
  keepEmbeddings?: boolean;
}

/** Top-k classes for each image file, from a loaded model and an open backbone runtime (kept by the caller). */
export async function predictWithModel(
  project: Project,
  model: HeadModel,
  runtime: FeatureRuntime,
  files: readonly string[],
  { top, keepEmbeddings = true }: PredictOptions,
  started = performance.now(),
): Promise<PredictResult> {
  const { version, learner, state } = model;
  const jobs = files.map((file) => ({ absPath: path.resolve(file), relPath: file }));
  const { vectors, failed } = await embedFilesCached(project, runtime, jobs, { keep: keepEmbeddings });
  const classNames = learner.classNames(state);
  const temperature = versionTemperature(version);
  const predictions: PredictResult['predictions'] = [];
  for (const job of jobs) {
    const vector = vectors.get(job.relPath);
    if (!vector) continue;
    const scores = await learner.predict(state, vector, 1);
    const confidence = confidences(scores, temperature);
    const ranked = classNames
      .map((className, index) => ({ className, score: scores[index]!, confidence: confidence[index]! }))
      .filter((entry) => Number.isFinite(entry.score))
      .sort((a, b) => b.score - a.score)
      .slice(0, top);
    predictions.push({ path: job.relPath, top: ranked });
  }
  return {
    command: 'predict',
    versionId: version.id,
    predictions,
    failed,
    device: runtime.report,
    timingsMs: { total: performance.now() - started },
  };
}
