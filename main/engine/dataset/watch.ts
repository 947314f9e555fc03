import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { decodeName, DIRECTION_CONTROL_REASON, hasDirectionControl, NOT_UTF8_FILE_REASON, NOT_UTF8_FOLDER_REASON, showPath } from './file-names.js';
import { fsErrorReason } from './fs-error-reason.js';
import { HIDDEN_FOLDER_REASON, isIgnoredName, isIgnoredRelPath, isListedHiddenFolder } from './ignore.js';
import { isInside, linkTargetReason, type StateLocation } from './link-target.js';
import { AsyncQueue } from './queue.js';
import { DEFAULT_STATE_DIR_NAME, type FileFailure, type ProjectFile } from './types.js';

export type WatchEvent =
  | { kind: 'added' | 'changed'; file: ProjectFile }
  | { kind: 'removed'; file: { relPath: string; className: string } }
  | { kind: 'classAdded' | 'classRemoved'; className: string }
  /**
   * A file or folder that can't be a sample (directly in the root, a link out of the root or
   * into the state folder, a hidden folder, a name that is not UTF-8…), or a watcher error.
   */
  | { kind: 'failed'; failure: FileFailure };

export interface WatchOptions {
  /** Default '.keizoku'; never reported. */
  stateDirName?: string;
  /** The state folder's path, wherever it is: never watched, and links into it are refused. */
  stateDir?: string;
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
 * Hidden and temporary files and the state folder are ignored; what the scan lists instead of
 * skipping silently (hidden folders, names that are not UTF-8 or carry text-direction controls,
 * links into the state folder or hidden folders) arrives as `failed`, once while it lasts.
 * Names that are not UTF-8 are noticed from the OS's raw notifications, so not when polling.
 * A move between class folders
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

  const stateDirAbs = options.stateDir === undefined ? undefined : path.resolve(options.stateDir);
  /** Folders reached through a link the scan refuses (into the state folder…): not watched. */
  const blocked = new Set<string>();
  // Until chokidar's initial crawl is done, what `ignored` sees is the existing tree: the scan reports that.
  let live = options.emitInitial ?? false;

  // Raw events are handled one after another (some need an async realpath), preserving order.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (handler: () => Promise<void> | void) => {
    chain = chain.then(handler).catch((error: unknown) => {
      queue.push({ kind: 'failed', failure: { path: '', reason: `watcher error: ${error instanceof Error ? error.message : String(error)}` } });
    });
  };

  /** Name and link failures reported, by shown path: each is reported once while it lasts. */
  const reported = new Map<string, string>();
  const report = (rel: string, reason: string) => {
    const shown = showPath(rel);
    if (reported.get(shown) === reason) return;
    reported.set(shown, reason);
    queue.push({ kind: 'failed', failure: { path: shown, reason } });
  };
  const forget = (rel: string) => {
    const shown = showPath(rel);
    for (const key of reported.keys()) if (key === shown || key.startsWith(`${shown}/`)) reported.delete(key);
  };

  /** Called (synchronously, often) by chokidar for every path it meets, with stats when it has them. */
  const isIgnored = (p: string, stats?: Stats): boolean => {
    const abs = path.resolve(rootAbs, p);
    if (stateDirAbs !== undefined && isInside(stateDirAbs, abs)) return true;
    for (const folder of blocked) if (isInside(folder, abs)) return true;
    const rel = relOf(p);
    if (rel === undefined || rel === '') return false;
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    const name = rel.slice(slash + 1);
    if (isIgnoredRelPath(rel, stateDirName)) {
      // Hidden folders are listed like the scan lists them; their content stays unwatched.
      if (live && stats?.isDirectory() && isListedHiddenFolder(name, stateDirName) && !isIgnoredRelPath(parent, stateDirName)) {
        enqueue(() => report(rel, HIDDEN_FOLDER_REASON));
      }
      return true;
    }
    if (hasDirectionControl(name)) {
      if (live) enqueue(() => report(rel, DIRECTION_CONTROL_REASON));
      return true;
    }
    return false;
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
    ignored: isIgnored,
  });

  watcher.once('ready', () => {
    live = true;
  });

  const realRootP = fs.realpath(rootAbs);
  realRootP.catch(() => undefined);
  const stateP: Promise<StateLocation> = (async () => ({
    name: stateDirName,
    realPath: stateDirAbs === undefined ? undefined : await fs.realpath(stateDirAbs).catch(() => stateDirAbs),
  }))();

  /**
   * Why the path (reached through links) must not be a sample, reported at the link itself:
   * the shortest prefix of `rel` whose real path is refused. Null when nothing is refused.
   */
  const refusedLink = async (rel: string, real: string, isFolder: boolean): Promise<{ at: string; reason: string; folder: boolean } | null> => {
    const realRoot = await realRootP;
    const state = await stateP;
    if (real === realRoot || linkTargetReason(realRoot, real, isFolder, state) === null) return null;
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const at = parts.slice(0, i).join('/');
      const folder = i < parts.length || isFolder;
      const atReal = i === parts.length ? real : await fs.realpath(path.join(rootAbs, ...parts.slice(0, i))).catch(() => undefined);
      const reason = atReal === undefined ? null : linkTargetReason(realRoot, atReal, folder, state);
      if (reason) return { at, reason, folder };
    }
    return { at: rel, reason: linkTargetReason(realRoot, real, isFolder, state)!, folder: isFolder };
  };

  /** Stops watching a folder reached through a refused link (chokidar would follow it). */
  const block = (rel: string) => {
    const abs = path.join(rootAbs, ...rel.split('/'));
    blocked.add(abs);
    watcher.unwatch(abs);
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
    const refused = await refusedLink(rel, real, false);
    if (refused) {
      report(refused.at, refused.reason);
      if (refused.folder) block(refused.at);
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

  /** Names chokidar cannot pass on (not UTF-8) in one folder, by shown path, from the last look. */
  const undecodable = new Map<string, Set<string>>();
  /**
   * chokidar reads names as UTF-8 strings, so it silently drops a name that is not UTF-8 (its
   * lossy string names nothing). The raw notification still carries that lossy name (with
   * U+FFFD): then the folder is read again as bytes and such names are reported.
   */
  const recheckNames = async (watched: string) => {
    const st = await fs.stat(watched).catch(() => undefined);
    if (!st) return;
    const dir = st.isDirectory() ? watched : path.dirname(watched);
    const dirRel = relOf(dir);
    if (dirRel === undefined || (dirRel !== '' && (isIgnoredRelPath(dirRel, stateDirName) || hasDirectionControl(dirRel)))) return;
    const entries = await fs.readdir(dir, { withFileTypes: true, encoding: 'buffer' }).catch(() => []);
    const now = new Set<string>();
    for (const entry of entries) {
      const { name, valid } = decodeName(entry.name);
      if (valid || isIgnoredName(name)) continue;
      const rel = dirRel === '' ? name : `${dirRel}/${name}`;
      now.add(rel);
      report(rel, entry.isDirectory() ? NOT_UTF8_FOLDER_REASON : NOT_UTF8_FILE_REASON);
    }
    for (const rel of undecodable.get(dir) ?? []) if (!now.has(rel)) forget(rel); // renamed or deleted: may be reported again
    undecodable.set(dir, now);
  };

  watcher.on('raw', (_event, name, details) => {
    const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (typeof name === 'string' && name.includes('\uFFFD') && typeof watched === 'string') enqueue(() => recheckNames(watched));
  });
  watcher.on('add', (p, stats) => enqueue(() => fileEvent('added', p, stats)));
  watcher.on('change', (p, stats) => enqueue(() => fileEvent('changed', p, stats)));
  watcher.on('unlink', (p) =>
    enqueue(() => {
      const rel = relOf(p);
      if (!rel) return;
      forget(rel);
      const parts = rel.split('/');
      if (parts.length >= 2) queue.push({ kind: 'removed', file: { relPath: rel, className: parts[0]! } });
    }),
  );
  watcher.on('addDir', (p) =>
    enqueue(async () => {
      const rel = relOf(p);
      if (!rel) return;
      // A folder reached through a link into the state folder (or a hidden one) is refused once, here.
      const real = await fs.realpath(p).catch(() => undefined);
      const refused = real === undefined ? null : await refusedLink(rel, real, true);
      if (refused) {
        report(refused.at, refused.reason);
        block(refused.at);
        return;
      }
      if (!rel.includes('/')) queue.push({ kind: 'classAdded', className: rel });
    }),
  );
  watcher.on('unlinkDir', (p) =>
    enqueue(() => {
      const rel = relOf(p);
      if (!rel) return;
      forget(rel);
      if (!rel.includes('/')) queue.push({ kind: 'classRemoved', className: rel });
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
