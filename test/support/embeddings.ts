// Real backbone features of a few shared Caltech photos, for learner tests about accuracy: the
// default catalog backbone (from the shared Coral mirror), embedded with the product pipeline.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { resolveBackbone } from '../../main/engine/backbones/resolve.js';
import { createOnnxFeatureExtractor, embedFiles } from '../../main/engine/embedding/index.js';
import type { LabeledFeatures } from '../../main/engine/learners/index.js';
import { defaultThreads, openSession } from '../../main/engine/runtime/devices.js';
import { CALTECH_DIR, CORAL_DIR } from './paths.js';
import { TEST_CACHE_DIR } from './project.js';

export interface EmbeddedPhotos extends LabeledFeatures {
  /** Class/file of each row, unique: usable as sample keys. */
  readonly keys: readonly string[];
}

/** The first `perClass` photos (sorted) of each class in `split` (of Caltech, or of another folder laid out the same), embedded in that order. */
export async function embedCaltech(classes: readonly string[], perClass: number, split: 'train' | 'test', root = CALTECH_DIR): Promise<EmbeddedPhotos> {
  const backbone = await resolveBackbone(undefined, { cacheDir: TEST_CACHE_DIR, mirrorDir: CORAL_DIR, allowDownload: false });
  const { session } = await openSession(backbone.onnxPath, 'cpu', defaultThreads());
  try {
    const extractor = createOnnxFeatureExtractor(
      session, { inputName: backbone.inputName, featuresName: backbone.featuresName }, backbone.featureDim, backbone.preprocessing,
    );
    const jobs = classes.flatMap((className) =>
      readdirSync(path.join(root, split, className)).sort().slice(0, perClass)
        .map((name) => ({ absPath: path.join(root, split, className, name), relPath: `${className}/${name}` })),
    );
    const rows = new Map<string, Float32Array>();
    await embedFiles(jobs, extractor, {
      lookupCached: () => undefined,
      onEmbedded: (job, _hash, vector) => rows.set(job.relPath, vector),
      onFailed: (job, reason) => {
        throw new Error(`${job.relPath}: ${reason}`);
      },
    });
    const dim = backbone.featureDim;
    const features = new Float32Array(jobs.length * dim);
    jobs.forEach((job, i) => features.set(rows.get(job.relPath)!, i * dim));
    return {
      features, dim, count: jobs.length,
      labels: jobs.map((job) => job.relPath.slice(0, job.relPath.indexOf('/'))),
      keys: jobs.map((job) => job.relPath),
    };
  } finally {
    await session.release();
  }
}

/** Rows of `data` whose label is in `classes` (keys kept). */
export function pick(data: EmbeddedPhotos, classes: readonly string[]): EmbeddedPhotos {
  const rows = data.labels.flatMap((label, i) => (classes.includes(label) ? [i] : []));
  return rowsOf(data, rows);
}

export function rowsOf(data: EmbeddedPhotos, rows: readonly number[]): EmbeddedPhotos {
  const features = new Float32Array(rows.length * data.dim);
  rows.forEach((r, i) => features.set(data.features.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim));
  return { features, dim: data.dim, count: rows.length, labels: rows.map((r) => data.labels[r]!), keys: rows.map((r) => data.keys[r]!) };
}
