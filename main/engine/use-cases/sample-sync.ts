import path from 'node:path';
import type { FileFailure } from '../api/contract.js';
import { scanProject, type ProjectFile } from '../dataset/index.js';
import { embedFiles } from '../embedding/index.js';
import type { FeatureRuntime } from '../runtime/feature-runtime.js';
import type { Project } from '../project/project.js';
import type { SampleRow } from '../store/samples.js';

export interface SyncResult {
  classNames: string[];
  files: number;
  embedded: number;
  fromCache: number;
  failed: FileFailure[];
  scanMs: number;
  embedMs: number;
}

const FLUSH_EVERY = 256;

/**
 * Brings the samples table in line with the class folders: new and changed files are hashed
 * and embedded (or found in the cache), vanished files are dropped, unchanged files (same
 * size and mtime) are not even read.
 */
export async function syncSamples(project: Project, runtime: FeatureRuntime): Promise<SyncResult> {
  const { store, options } = project;
  const backboneKey = runtime.backbone.key;
  const scanStarted = performance.now();
  options.onProgress?.({ phase: 'scan', done: 0, total: 1, message: 'scanning folders' });
  const scan = await scanProject(project.root, { stateDirName: stateDirNameInside(project), stateDir: project.stateDir });
  const known = new Map(store.samples.all().map((row) => [row.relPath, row]));
  // Unchanged ready files still need their vector under this backbone: checked in one pass.
  const cached = store.embeddings.present(
    scan.files.flatMap((file) => {
      const row = known.get(file.relPath);
      return row && isUnchanged(row, file) && row.status === 'ready' ? [row.contentHash!] : [];
    }),
    backboneKey,
  );
  const jobs: ProjectFile[] = [];
  for (const file of scan.files) {
    const row = known.get(file.relPath);
    known.delete(file.relPath);
    if (!row || !isUnchanged(row, file) || (row.status === 'ready' && !cached.has(row.contentHash!))) {
      jobs.push(file);
    }
  }
  store.samples.deleteMany([...known.keys()]);
  const scanMs = performance.now() - scanStarted;
  options.onProgress?.({ phase: 'scan', done: 1, total: 1 });

  const embedStarted = performance.now();
  const totals = await embedIntoSamples(project, runtime, jobs);
  const embedMs = performance.now() - embedStarted;

  const failed: FileFailure[] = [
    ...scan.failed,
    ...store.samples
      .all()
      .filter((row) => row.status === 'failed')
      .map((row) => ({ path: row.relPath, reason: row.reason ?? 'unusable' })),
  ].sort((a, b) => a.path.localeCompare(b.path));
  return {
    classNames: scan.classNames,
    files: scan.files.length,
    embedded: totals.embedded,
    fromCache: totals.fromCache,
    failed,
    scanMs,
    embedMs,
  };
}

/**
 * Hashes and embeds files (or finds them in the cache) and records them as samples, ready or
 * failed with the reason. Rows and vectors are written in batches, each one transaction.
 */
export async function embedIntoSamples(
  project: Project,
  runtime: FeatureRuntime,
  files: readonly ProjectFile[],
): Promise<{ embedded: number; fromCache: number; failed: number }> {
  const { store, options } = project;
  const backboneKey = runtime.backbone.key;
  // A backbone split for fine-tuning yields cut activations: cached quantized.
  const activationShape = runtime.backbone.fineTuning?.cutShape;
  const byRelPath = new Map(files.map((file) => [file.relPath, file]));
  const pendingRows: Array<Omit<SampleRow, 'split'>> = [];
  const pendingVectors: Array<{ contentHash: string; vector: Float32Array }> = [];
  const flush = () => {
    store.transaction(() => {
      store.embeddings.putMany(backboneKey, pendingVectors, activationShape);
      store.samples.upsertMany(pendingRows);
    });
    pendingRows.length = 0;
    pendingVectors.length = 0;
  };
  const record = (row: Omit<SampleRow, 'split'>) => {
    pendingRows.push(row);
    if (pendingRows.length >= FLUSH_EVERY) flush();
  };
  try {
    const totals = await embedFiles(
      files.map((file) => ({ absPath: file.absPath, relPath: file.relPath })),
      runtime.extractor,
      {
        lookupCached: (hash) => store.embeddings.get(hash, backboneKey),
        onEmbedded: (job, contentHash, vector, fromCache) => {
          if (!fromCache) pendingVectors.push({ contentHash, vector });
          record({ ...describe(byRelPath.get(job.relPath)!), contentHash, status: 'ready', reason: null });
        },
        onFailed: (job, reason) => record({ ...describe(byRelPath.get(job.relPath)!), contentHash: null, status: 'failed', reason }),
        onProgress: (done, total) => options.onProgress?.({ phase: 'embed', done, total }),
      },
      { signal: options.signal },
    );
    return { embedded: totals.embedded, fromCache: totals.cached, failed: totals.failed };
  } finally {
    // What was embedded before a cancel or crash is kept: the cache makes the next run shorter.
    flush();
  }
}

function isUnchanged(row: SampleRow, file: ProjectFile): boolean {
  return row.className === file.className && row.size === file.size && row.mtimeMs === file.mtimeMs && row.status !== 'pending';
}

function describe(file: ProjectFile) {
  return { relPath: file.relPath, className: file.className, size: file.size, mtimeMs: file.mtimeMs };
}

/**
 * The state folder's name when it sits directly in the project root (so the scan skips it by
 * name). Deeper inside (root/cats/state) the scan skips it by its path instead: taking the
 * first segment would hide the whole class folder.
 */
export function stateDirNameInside(project: Project): string | undefined {
  const relative = path.relative(project.root, project.stateDir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) && !relative.includes(path.sep) ? relative : undefined;
}
