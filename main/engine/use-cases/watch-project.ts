import type { FileFailure, WatchResult } from '../api/contract.js';
import { watchProjectFolder, type ProjectFile, type WatchEvent } from '../dataset/index.js';
import { FeatureRuntime } from '../runtime/feature-runtime.js';
import type { Project } from '../project/project.js';
import { embedIntoSamples, stateDirNameInside, syncSamples } from './sample-sync.js';

const BATCH = 256;

/**
 * Keeps the samples table and the embedding cache current while files land in the class
 * folders, so the next update only trains. Runs until `signal` aborts (Ctrl-C in the CLI).
 */
export async function watchProject(project: Project, signal: AbortSignal, onEvent?: (event: WatchEvent) => void): Promise<WatchResult> {
  const { store, options } = project;
  const backbone = await project.backbone();
  const runtime = new FeatureRuntime(backbone, options.device ?? 'auto');
  const watcher = watchProjectFolder(project.root, { stateDirName: stateDirNameInside(project) ?? '.keizoku', stateDir: project.stateDir });
  const events = { added: 0, changed: 0, removed: 0 };
  const watchFailures = new Map<string, FileFailure>();
  let embedded = 0;
  let fromCache = 0;
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    // Watch first, then scan: nothing written in between is missed (events are idempotent by path).
    await watcher.ready;
    const initial = await syncSamples(project, runtime);
    embedded += initial.embedded;
    fromCache += initial.fromCache;
    options.onProgress?.({ phase: 'watch', done: 0, total: 0, message: `watching ${project.root}` });

    while (!signal.aborted) {
      const batch = await Promise.race([watcher.take(BATCH), stopped.then(() => null)]);
      if (batch === null || batch.length === 0) break;
      const toEmbed = new Map<string, ProjectFile>();
      const removed: string[] = [];
      for (const event of batch) {
        onEvent?.(event);
        switch (event.kind) {
          case 'added':
          case 'changed':
            events[event.kind]++;
            toEmbed.set(event.file.relPath, event.file);
            watchFailures.delete(event.file.relPath);
            break;
          case 'removed':
            events.removed++;
            toEmbed.delete(event.file.relPath);
            removed.push(event.file.relPath);
            break;
          case 'failed':
            watchFailures.set(event.failure.path, event.failure);
            break;
          case 'classAdded':
          case 'classRemoved':
            break; // a class is its folder: the next update adds or removes it
        }
      }
      if (removed.length > 0) store.samples.deleteMany(removed);
      if (toEmbed.size > 0) {
        try {
          const totals = await embedIntoSamples(project, runtime, [...toEmbed.values()]);
          embedded += totals.embedded;
          fromCache += totals.fromCache;
        } catch (error) {
          if (signal.aborted) break; // stopping mid-batch is normal; what was embedded is kept
          throw error;
        }
      }
      options.onProgress?.({ phase: 'watch', done: events.added + events.changed, total: events.added + events.changed, message: `${watcher.pending} queued` });
    }
  } finally {
    await watcher.close();
    await runtime.close();
  }
  const failed = [
    ...watchFailures.values(),
    ...store.samples
      .all()
      .filter((row) => row.status === 'failed')
      .map((row) => ({ path: row.relPath, reason: row.reason ?? 'unusable' })),
  ].sort((a, b) => a.path.localeCompare(b.path));
  return { command: 'watch', events, embedded, fromCache, failed, device: runtime.report };
}
