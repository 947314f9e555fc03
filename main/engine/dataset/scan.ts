import type { Dirent, Stats } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isIgnoredName } from './ignore.js';
import { DEFAULT_STATE_DIR_NAME, type FileFailure, type ProjectFile } from './types.js';

export interface ScanResult {
  classNames: string[];
  files: ProjectFile[];
  failed: FileFailure[];
}

/** Code-unit order: deterministic across machines and locales (unlike localeCompare). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A short human reason for a filesystem error. */
export function fsErrorReason(error: unknown, what: 'file' | 'folder' | 'link'): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return what === 'folder' ? 'cannot read folder: permission denied' : 'cannot read file: permission denied';
    case 'ENOENT':
      return what === 'link' ? 'broken link (target does not exist)' : `${what} disappeared during the scan`;
    case 'ELOOP':
      return 'symlink loop';
    case 'ENOTDIR':
      return 'broken link (a parent of the target is not a folder)';
    case 'EIO':
      return `cannot read ${what}: I/O error`;
    case 'ENAMETOOLONG':
      return 'path too long';
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return `cannot read ${what}: ${code ?? message}`;
    }
  }
}

function isInside(realRoot: string, real: string): boolean {
  if (real === realRoot) return true;
  const prefix = realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep;
  return real.startsWith(prefix);
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

/**
 * Scans a project folder: each top-level subfolder is a class, every regular file anywhere below
 * it a candidate sample (content is judged later, by the decoder).
 *
 * - Hidden entries, temporary/partial files and the state folder are skipped silently.
 * - Files directly in the root are reported once each as "not inside a class folder".
 * - Symlinks are followed when they resolve inside the root; links out of the root, dangling
 *   links, loops and unreadable files/folders become failures and the scan goes on.
 * - Output is sorted (code-unit order) and deterministic. Empty class folders are classes.
 *
 * Throws only when the root itself cannot be read.
 */
export async function scanProject(root: string, options: { stateDirName?: string } = {}): Promise<ScanResult> {
  const stateDirName = options.stateDirName ?? DEFAULT_STATE_DIR_NAME;
  const rootAbs = path.resolve(root);
  const realRoot = await fs.realpath(rootAbs);
  const rootStat = await fs.stat(realRoot);
  if (!rootStat.isDirectory()) throw new Error(`not a folder: ${rootAbs}`);
  const rootEntries = await fs.readdir(rootAbs, { withFileTypes: true });

  const classNames: string[] = [];
  const files: ProjectFile[] = [];
  const failed: FileFailure[] = [];

  /** Resolves a directory entry (following a link) into what it is. */
  const resolve = async (entry: Dirent, abs: string, parentReal: string): Promise<Resolved> => {
    if (entry.isSymbolicLink()) {
      let real: string;
      try {
        real = await fs.realpath(abs);
      } catch (error) {
        return { kind: 'failed', reason: fsErrorReason(error, 'link') };
      }
      if (!isInside(realRoot, real)) return { kind: 'failed', reason: 'link points outside the project folder' };
      let stats: Stats;
      try {
        stats = await fs.stat(real);
      } catch (error) {
        return { kind: 'failed', reason: fsErrorReason(error, 'link') };
      }
      if (stats.isDirectory()) return { kind: 'dir', real };
      if (stats.isFile()) return { kind: 'file', stats };
      return { kind: 'other', what: otherKind(stats) };
    }
    if (entry.isDirectory()) return { kind: 'dir', real: path.join(parentReal, entry.name) };
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
      failed.push({ path: rel, reason: fsErrorReason(error, 'file') });
      return;
    }
    files.push({ absPath: abs, relPath: rel, className, size: stats.size, mtimeMs: stats.mtimeMs });
  };

  const walk = async (dirAbs: string, dirRel: string, dirReal: string, className: string, ancestors: ReadonlySet<string>): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dirAbs, { withFileTypes: true });
    } catch (error) {
      failed.push({ path: dirRel, reason: fsErrorReason(error, 'folder') });
      return;
    }
    const subdirs: Array<{ abs: string; rel: string; real: string }> = [];
    await mapLimit(entries.filter((e) => !isIgnoredName(e.name)), 16, async (entry) => {
      const abs = path.join(dirAbs, entry.name);
      const rel = `${dirRel}/${entry.name}`;
      const r = await resolve(entry, abs, dirReal);
      switch (r.kind) {
        case 'failed':
          failed.push({ path: rel, reason: r.reason });
          break;
        case 'other':
          failed.push({ path: rel, reason: `not a regular file (${r.what})` });
          break;
        case 'file':
          await addFile(abs, rel, className, r.stats);
          break;
        case 'dir':
          if (ancestors.has(r.real)) failed.push({ path: rel, reason: 'symlink loop (links back to a parent folder)' });
          else subdirs.push({ abs, rel, real: r.real });
          break;
      }
    });
    // Subfolders one after another (each already stats its files concurrently): bounded fan-out.
    subdirs.sort((a, b) => compareCodeUnits(a.rel, b.rel));
    for (const sub of subdirs) await walk(sub.abs, sub.rel, sub.real, className, new Set([...ancestors, sub.real]));
  };

  for (const entry of [...rootEntries].sort((a, b) => compareCodeUnits(a.name, b.name))) {
    if (entry.name === stateDirName || isIgnoredName(entry.name)) continue;
    const abs = path.join(rootAbs, entry.name);
    const r = await resolve(entry, abs, realRoot);
    switch (r.kind) {
      case 'failed':
        failed.push({ path: entry.name, reason: r.reason });
        break;
      case 'other':
        failed.push({ path: entry.name, reason: `not a regular file (${r.what})` });
        break;
      case 'file':
        failed.push({ path: entry.name, reason: 'not inside a class folder' });
        break;
      case 'dir':
        if (r.real === realRoot) {
          failed.push({ path: entry.name, reason: 'symlink loop (links back to a parent folder)' });
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
