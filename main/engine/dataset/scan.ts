import type { Dirent, Stats } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeName, DIRECTION_CONTROL_REASON, hasDirectionControl, NOT_UTF8_FILE_REASON, NOT_UTF8_FOLDER_REASON, showPath } from './file-names.js';
import { fsErrorReason } from './fs-error-reason.js';
import { HIDDEN_FOLDER_REASON, isIgnoredName, isListedHiddenFolder } from './ignore.js';
import { isInside, linkTargetReason, type StateLocation } from './link-target.js';
import { DEFAULT_STATE_DIR_NAME, type FileFailure, type ProjectFile } from './types.js';

export { fsErrorReason } from './fs-error-reason.js';

export interface ScanResult {
  classNames: string[];
  files: ProjectFile[];
  failed: FileFailure[];
}

/** Code-unit order: deterministic across machines and locales (unlike localeCompare). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

type Resolved =
  | { kind: 'dir'; real: string }
  | { kind: 'file'; stats: Stats }
  | { kind: 'other'; what: string }
  | { kind: 'failed'; reason: string };

function otherKind(s: { isFIFO(): boolean; isSocket(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean }): string {
  if (s.isFIFO()) return 'named pipe';
  if (s.isSocket()) return 'socket';
  if (s.isBlockDevice() || s.isCharacterDevice()) return 'device';
  return 'special file';
}

/** A directory entry with its name decoded (names are read as bytes: not every name is UTF-8). */
interface Entry {
  dirent: Dirent<Buffer>;
  name: string;
  validName: boolean;
}

async function readEntries(dir: string): Promise<Entry[]> {
  const dirents = await fs.readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  return dirents.map((dirent) => {
    const { name, valid } = decodeName(dirent.name);
    return { dirent, name, validName: valid };
  });
}

/**
 * What the scan makes of an entry's name alone: skip it silently, list it as a failure with
 * this reason, or (null) go on and look at what it is.
 */
function nameVerdict(entry: Entry, stateDirName: string, inRoot: boolean): 'skip' | string | null {
  const { dirent, name } = entry;
  if (inRoot && name === stateDirName) return 'skip';
  if (isIgnoredName(name)) return dirent.isDirectory() && isListedHiddenFolder(name, stateDirName) ? HIDDEN_FOLDER_REASON : 'skip';
  // Such a name cannot be passed on as a string path: reported once, never descended into.
  if (!entry.validName) return dirent.isDirectory() ? NOT_UTF8_FOLDER_REASON : NOT_UTF8_FILE_REASON;
  // The user's file, but a name that displays as something else has no place in a data set.
  if (hasDirectionControl(name)) return DIRECTION_CONTROL_REASON;
  return null;
}

/**
 * Scans a project folder: each top-level subfolder is a class, every regular file anywhere below
 * it a candidate sample (content is judged later, by the decoder).
 *
 * - Hidden files, temporary/partial files, the state folder and system folders (.Trash, .git…)
 *   are skipped silently; other hidden folders are skipped and listed, so nobody wonders where
 *   their photos went.
 * - Files directly in the root are reported once each as "not inside a class folder".
 * - Names that are not valid UTF-8 or carry text-direction controls are listed (paths shown
 *   lossily / with the control made visible), never followed.
 * - Symlinks are followed when they resolve inside the root and outside the state folder and
 *   hidden folders; other links, dangling links, loops and unreadable files/folders become
 *   failures and the scan goes on.
 * - Output is sorted (code-unit order) and deterministic. Empty class folders are classes.
 *
 * `stateDir` (the state folder's path, wherever it is) makes the scan skip it and refuse links
 * into it even when it is not a direct child of the root named `stateDirName`.
 *
 * Throws only when the root itself cannot be read.
 */
export async function scanProject(root: string, options: { stateDirName?: string; stateDir?: string } = {}): Promise<ScanResult> {
  const stateDirName = options.stateDirName ?? DEFAULT_STATE_DIR_NAME;
  const rootAbs = path.resolve(root);
  const realRoot = await fs.realpath(rootAbs);
  const rootStat = await fs.stat(realRoot);
  if (!rootStat.isDirectory()) throw new Error(`not a folder: ${rootAbs}`);
  const state: StateLocation = { name: stateDirName, realPath: options.stateDir ? await fs.realpath(options.stateDir).catch(() => undefined) : undefined };
  const rootEntries = await readEntries(rootAbs);

  const classNames: string[] = [];
  const files: ProjectFile[] = [];
  const failed: FileFailure[] = [];
  const fail = (rel: string, reason: string) => failed.push({ path: showPath(rel), reason });

  /** Resolves a directory entry (following a link) into what it is. */
  const resolve = async (entry: Dirent<Buffer>, abs: string, name: string, parentReal: string): Promise<Resolved> => {
    if (entry.isSymbolicLink()) {
      let real: string;
      let stats: Stats;
      try {
        real = await fs.realpath(abs);
        if (!isInside(realRoot, real)) return { kind: 'failed', reason: 'link points outside the project folder' };
        stats = await fs.stat(real);
      } catch (error) {
        return { kind: 'failed', reason: fsErrorReason(error, 'link') };
      }
      const refused = linkTargetReason(realRoot, real, stats.isDirectory(), state);
      if (refused) return { kind: 'failed', reason: refused };
      if (stats.isDirectory()) return { kind: 'dir', real };
      if (stats.isFile()) return { kind: 'file', stats };
      return { kind: 'other', what: otherKind(stats) };
    }
    if (entry.isDirectory()) return { kind: 'dir', real: path.join(parentReal, name) };
    if (entry.isFile()) {
      try {
        return { kind: 'file', stats: await fs.stat(abs) };
      } catch (error) {
        return { kind: 'failed', reason: fsErrorReason(error, 'file') };
      }
    }
    return { kind: 'other', what: otherKind(entry) };
  };

  const addFile = async (abs: string, rel: string, className: string, stats: Stats) => {
    try {
      await fs.access(abs, fsConstants.R_OK);
    } catch (error) {
      fail(rel, fsErrorReason(error, 'file'));
      return;
    }
    files.push({ absPath: abs, relPath: rel, className, size: stats.size, mtimeMs: stats.mtimeMs });
  };

  const walk = async (dirAbs: string, dirRel: string, dirReal: string, className: string, ancestors: ReadonlySet<string>): Promise<void> => {
    let entries: Entry[];
    try {
      entries = await readEntries(dirAbs);
    } catch (error) {
      fail(dirRel, fsErrorReason(error, 'folder'));
      return;
    }
    const subdirs: Array<{ abs: string; rel: string; real: string }> = [];
    await mapLimit(entries, 16, async (entry) => {
      const rel = `${dirRel}/${entry.name}`;
      const verdict = nameVerdict(entry, stateDirName, false);
      if (verdict === 'skip') return;
      if (verdict !== null) {
        fail(rel, verdict);
        return;
      }
      const abs = path.join(dirAbs, entry.name);
      const r = await resolve(entry.dirent, abs, entry.name, dirReal);
      switch (r.kind) {
        case 'failed':
          fail(rel, r.reason);
          break;
        case 'other':
          fail(rel, `not a regular file (${r.what})`);
          break;
        case 'file':
          await addFile(abs, rel, className, r.stats);
          break;
        case 'dir':
          if (r.real === state.realPath) break; // the state folder, kept inside a class folder
          if (ancestors.has(r.real)) fail(rel, 'symlink loop (links back to a parent folder)');
          else subdirs.push({ abs, rel, real: r.real });
          break;
      }
    });
    // Subfolders one after another (each already stats its files concurrently): bounded fan-out.
    subdirs.sort((a, b) => compareCodeUnits(a.rel, b.rel));
    for (const sub of subdirs) await walk(sub.abs, sub.rel, sub.real, className, new Set([...ancestors, sub.real]));
  };

  for (const entry of [...rootEntries].sort((a, b) => compareCodeUnits(a.name, b.name))) {
    const verdict = nameVerdict(entry, stateDirName, true);
    if (verdict === 'skip') continue;
    if (verdict !== null) {
      fail(entry.name, verdict);
      continue;
    }
    const abs = path.join(rootAbs, entry.name);
    const r = await resolve(entry.dirent, abs, entry.name, realRoot);
    switch (r.kind) {
      case 'failed':
        fail(entry.name, r.reason);
        break;
      case 'other':
        fail(entry.name, `not a regular file (${r.what})`);
        break;
      case 'file':
        fail(entry.name, 'not inside a class folder');
        break;
      case 'dir':
        if (r.real === state.realPath) break;
        if (r.real === realRoot) {
          fail(entry.name, 'symlink loop (links back to a parent folder)');
          break;
        }
        classNames.push(entry.name);
        await walk(abs, entry.name, r.real, entry.name, new Set([realRoot, r.real]));
        break;
    }
  }

  classNames.sort(compareCodeUnits);
  files.sort((a, b) => compareCodeUnits(a.relPath, b.relPath));
  failed.sort((a, b) => compareCodeUnits(a.path, b.path));
  return { classNames, files, failed };
}
