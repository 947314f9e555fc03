import type { FileFailure } from '../api/contract.js';
import { embedFiles, type EmbedJob } from './index.js';
import type { FeatureRuntime } from '../runtime/feature-runtime.js';
import type { Project } from '../project/project.js';

/**
 * Embeds files that are not samples of the project (predict, eval on another folder),
 * through the same embedding cache, so asking twice about a photo costs one inference.
 * `keep: false` still reads the cache but adds nothing to it: a live camera's frames are
 * never seen twice, and keeping each would grow the project's database without end.
 */
export async function embedFilesCached(
  project: Project,
  runtime: FeatureRuntime,
  jobs: readonly EmbedJob[],
  options: { keep?: boolean } = {},
): Promise<{ vectors: Map<string, Float32Array>; failed: FileFailure[]; embedded: number; fromCache: number }> {
  const { store, options: projectOptions } = project;
  const key = runtime.backbone.key;
  const vectors = new Map<string, Float32Array>();
  const failed: FileFailure[] = [];
  const fresh: Array<{ contentHash: string; vector: Float32Array }> = [];
  const totals = await embedFiles(
    [...jobs],
    runtime.extractor,
    {
      lookupCached: (hash) => store.embeddings.get(hash, key),
      onEmbedded: (job, contentHash, vector, fromCache) => {
        vectors.set(job.relPath, vector);
        if (!fromCache) fresh.push({ contentHash, vector });
      },
      onFailed: (job, reason) => failed.push({ path: job.relPath, reason }),
      onProgress: (done, total) => projectOptions.onProgress?.({ phase: 'embed', done, total }),
    },
    { signal: projectOptions.signal },
  );
  // Read-only commands on a read-only project still predict; they just cannot cache.
  if (store.writable && options.keep !== false) store.embeddings.putMany(key, fresh, runtime.backbone.fineTuning?.cutShape);
  return { vectors, failed, embedded: totals.embedded, fromCache: totals.cached };
}
