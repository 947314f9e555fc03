// The shared photo sets as sorted lists of files, and their embeddings through the product
// pipeline (embedFiles), kept in memory.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { embedFiles, type FeatureExtractor } from '../main/engine/embedding/index.js';
import type { LabeledFeatures } from '../main/engine/learners/index.js';
import { CALTECH_DIR, CIFAR_DIR } from './paths.js';

export interface PhotoFile {
  absPath: string;
  relPath: string;
  className: string;
}

export interface DatasetSpec {
  name: string;
  dir: string;
  /** Classes per incremental step. */
  classesPerStep: number;
}

export const CALTECH: DatasetSpec = { name: 'Caltech-101', dir: CALTECH_DIR, classesPerStep: 10 };
export const CIFAR: DatasetSpec = { name: 'CIFAR-10', dir: CIFAR_DIR, classesPerStep: 2 };

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Class folders of a split, sorted by code units (locale-independent). */
export function listClasses(dir: string, split: 'train' | 'test'): string[] {
  return readdirSync(path.join(dir, split), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort(byCodeUnits);
}

/** Every file of a split, sorted by class then file name. */
export function listFiles(dir: string, split: 'train' | 'test', classes: readonly string[] = listClasses(dir, split)): PhotoFile[] {
  return classes.flatMap((className) =>
    readdirSync(path.join(dir, split, className))
      .sort(byCodeUnits)
      .map((name) => ({ absPath: path.join(dir, split, className, name), relPath: `${className}/${name}`, className })),
  );
}

export interface EmbeddedSplit extends LabeledFeatures {
  failed: number;
  wallMs: number;
}

/** Embeds files in order with embedFiles (no cache); failed files are left out (and counted). */
export async function embedSplit(files: readonly PhotoFile[], extractor: FeatureExtractor, onProgress?: (done: number, total: number) => void): Promise<EmbeddedSplit> {
  const dim = extractor.featureDim;
  const rows: Array<{ label: string; vector: Float32Array }> = [];
  let failed = 0;
  const totals = await embedFiles(
    files.map(({ absPath, relPath }) => ({ absPath, relPath })),
    extractor,
    {
      lookupCached: () => undefined,
      onEmbedded: (job, _hash, vector) => rows.push({ label: job.relPath.slice(0, job.relPath.indexOf('/')), vector }),
      onFailed: () => failed++,
      ...(onProgress ? { onProgress } : {}),
    },
  );
  const features = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => features.set(row.vector, i * dim));
  return { features, labels: rows.map((row) => row.label), count: rows.length, dim, failed, wallMs: totals.timings.wallMs };
}

/** The rows of `data` whose label is in `classes`, in their original order. */
export function selectClasses(data: LabeledFeatures, classes: readonly string[]): LabeledFeatures {
  const wanted = new Set(classes);
  const picked: number[] = [];
  data.labels.forEach((label, i) => {
    if (wanted.has(label)) picked.push(i);
  });
  const features = new Float32Array(picked.length * data.dim);
  picked.forEach((row, i) => features.set(data.features.subarray(row * data.dim, (row + 1) * data.dim), i * data.dim));
  return { features, labels: picked.map((row) => data.labels[row]!), count: picked.length, dim: data.dim };
}

/** Consecutive chunks of `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
