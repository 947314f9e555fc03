import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { isIgnoredRelPath } from './ignore.js';
import { AsyncQueue } from './queue.js';
import { fsErrorReason } from './scan.js';
import { DEFAULT_STATE_DIR_NAME, type FileFailure, type ProjectFile } from './types.js';

export type WatchEvent =
  | { kind: 'added' | 'changed'; file: ProjectFile }
  | { kind: 'removed'; file: { relPath: string; className: string } }
  | { kind: 'classAdded' | 'classRemoved'; className: string }
  /** A file that can't be a sample (directly in the root, link out of the root), or a watcher error. */
  | { kind: 'failed'; failure: FileFailure };

export interface WatchOptions {
  /** Default '.keizoku'; never reported. */
  stateDirName?: string;
  /** A file counts as fully written once its size has not changed for this long. Default 1000 ms. */
  stabilityThresholdMs?: number;
  /** How often a file being written is re-checked. Default 100 ms. */
  pollIntervalMs?: number;
  /** Report files and class folders that exist at start (default false: use scanProject after `ready`). */
  emitInitial?: boolean;
  /** Poll instead of OS notifications (network drives). Default false. */
  usePolling?: boolean;
}

export interface ProjectWatcher extends AsyncIterable<WatchEvent> {
  /** Resolves once the initial tree is being watched; rejects if the root can't be watched. */
  readonly ready: Promise<void>;
  /** Events queued and not yet consumed. */
  readonly pending: number;
  /** The next event; `undefined` once closed and drained. */
  next(): Promise<WatchEvent | undefined>;
  /** Waits for at least one event, then returns up to `max` queued events ([] once closed and drained). */
  take(max?: number): Promise<WatchEvent[]>;
  /** Stops watching. Events already queued are still delivered, then iteration ends. */
  close(): Promise<void>;
}

function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}

/**
 * Watches a project folder (one subfolder per class) and turns file-system notifications into
 * typed, ordered events on an unbounded queue, so bursts of thousands of files are never
 * dropped. Files are reported once fully written (size stable for `stabilityThresholdMs`).
 * Hidden and temporary files and the state folder are ignored. A move between class folders
 * arrives as `removed` then `added` (same content, so a content-hash cache relabels it).
 *
 * Recommended start-up: `const w = watchProjectFolder(root); await w.ready; await scanProject(root);`
 * so nothing written between the scan and the watch is missed (an event may repeat what the
 * scan saw; handle events idempotently by relPath).
 */
export function watchProjectFolder(root: string, options: WatchOptions = {}): ProjectWatcher {
  const rootAbs = path.resolve(root);
  const stateDirName = options.stateDirName ?? DEFAULT_STATE_DIR_NAME;
  const queue = new AsyncQueue<WatchEvent>();

  const relOf = (p: string): string | undefined => {
    const rel = path.relative(rootAbs, path.resolve(rootAbs, p));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return rel === '' ? '' : undefined;
    return toPosix(rel);
  };

  const watcher: FSWatcher = watch(rootAbs, {
    ignoreInitial: !options.emitInitial,
    followSymlinks: true,
    alwaysStat: true,
    usePolling: options.usePolling ?? false,
    ignorePermissionErrors: false,
    awaitWriteFinish: {
      stabilityThreshold: options.stabilityThresholdMs ?? 1000,
      pollInterval: options.pollIntervalMs ?? 100,
    },
    ignored: (p: string) => {
      const rel = relOf(p);
      return rel !== undefined && isIgnoredRelPath(rel, stateDirName);
    },
  });

  const realRootP = fs.realpath(rootAbs);
  realRootP.catch(() => undefined);

  // Raw events are handled one after another (some need an async realpath), preserving order.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (handler: () => Promise<void> | void) => {
    chain = chain.then(handler).catch((error: unknown) => {
      queue.push({ kind: 'failed', failure: { path: '', reason: `watcher error: ${error instanceof Error ? error.message : String(error)}` } });
    });
  };

  const fileEvent = async (kind: 'added' | 'changed', p: string, stats: Stats | undefined) => {
    const rel = relOf(p);
    if (rel === undefined || rel === '') return;
    const parts = rel.split('/');
    if (parts.length === 1) {
      if (kind === 'added') queue.push({ kind: 'failed', failure: { path: rel, reason: 'not inside a class folder' } });
      return;
    }
    let real: string;
    try {
      real = await fs.realpath(p);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // gone again: its 'removed' follows
      queue.push({ kind: 'failed', failure: { path: rel, reason: fsErrorReason(error, 'link') } });
      return;
    }
    const realRoot = await realRootP;
    if (real !== realRoot && !real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep)) {
      queue.push({ kind: 'failed', failure: { path: rel, reason: 'link points outside the project folder' } });
      return;
    }
    const st = stats ?? (await fs.stat(p).catch(() => undefined));
    if (!st) return;
    if (!st.isFile()) {
      queue.push({ kind: 'failed', failure: { path: rel, reason: 'not a regular file' } });
      return;
    }
    queue.push({
      kind,
      file: { absPath: path.join(rootAbs, ...parts), relPath: rel, className: parts[0]!, size: st.size, mtimeMs: st.mtimeMs },
    });
  };

  watcher.on('add', (p, stats) => enqueue(() => fileEvent('added', p, stats)));
  watcher.on('change', (p, stats) => enqueue(() => fileEvent('changed', p, stats)));
  watcher.on('unlink', (p) =>
    enqueue(() => {
      const rel = relOf(p);
      if (!rel) return;
      const parts = rel.split('/');
      if (parts.length >= 2) queue.push({ kind: 'removed', file: { relPath: rel, className: parts[0]! } });
    }),
  );
  watcher.on('addDir', (p) =>
    enqueue(() => {
      const rel = relOf(p);
      if (rel && !rel.includes('/')) queue.push({ kind: 'classAdded', className: rel });
    }),
  );
  watcher.on('unlinkDir', (p) =>
    enqueue(() => {
      const rel = relOf(p);
      if (rel && !rel.includes('/')) queue.push({ kind: 'classRemoved', className: rel });
    }),
  );
  watcher.on('error', (error: unknown) =>
    enqueue(() => {
      const err = error as NodeJS.ErrnoException;
      const rel = err.path ? relOf(err.path) : undefined;
      queue.push({ kind: 'failed', failure: { path: rel ?? err.path ?? '', reason: fsErrorReason(err, 'folder') } });
    }),
  );

  const ready = (async () => {
    const st = await fs.stat(rootAbs);
    if (!st.isDirectory()) throw new Error(`not a folder: ${rootAbs}`);
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    await chain; // initial events (emitInitial) are queued before ready resolves
  })();
  ready.catch(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    ready,
    get pending() {
      return queue.size;
    },
    async next() {
      const r = await queue.next();
      return r.done ? undefined : r.value;
    },
    take: (max?: number) => queue.take(max),
    close() {
      closing ??= (async () => {
        await watcher.close();
        await chain;
        queue.close();
      })();
      return closing;
    },
    [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
  };
}
