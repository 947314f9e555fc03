import { randomBytes } from 'node:crypto';
import { lstat, mkdir, realpath, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileFailure } from '../api/contract.js';
import { MAX_IMAGE_BYTES, type ImportResult } from '../api/app-api.js';
import { linkUnderFreeName } from '../files/place-exclusively.js';
import { portableNameReason, showPath } from '../dataset/file-names.js';
import { fsWriteErrorReason } from '../dataset/fs-error-reason.js';
import { isIgnoredName } from '../dataset/ignore.js';
import { isInside, linkTargetReason, type StateLocation } from '../dataset/link-target.js';
import { sniffFormat } from '../images/index.js';
import { STATE_DIR_NAME } from '../project/project.js';

export interface IncomingFile {
  className: string;
  fileName: string;
  bytes: Uint8Array;
}

/** Why a dropped name cannot be a folder or file name in the project, or null when it can. */
export function unusableNameReason(name: string): string | null {
  if (name.length === 0 || Buffer.byteLength(name) > 255) return 'name is empty or longer than 255 bytes';
  if (/[/\\\0]/.test(name) || name === '.' || name === '..') return 'name contains a path separator';
  if (name === STATE_DIR_NAME || isIgnoredName(name)) return 'hidden or temporary name (the scan would skip it)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) return 'name contains control characters';
  return portableNameReason(name);
}

/**
 * Copies dropped images into root/<class>/, creating the class folder when needed. Never
 * overwrites: a name already taken gets " (2)", " (3)"…. Each file is written under a hidden
 * temporary name and then linked into place, so the watcher never sees half a file.
 * Every file gets its own answer: imported, or rejected with a short reason (never an absolute
 * path); one file's failure never stops the rest of the batch.
 *
 * `stateDir` is the project's state folder (default root/.keizoku): nothing is ever written
 * into it, nor into a hidden folder, even through a class folder that is a link.
 */
export async function importFiles(root: string, files: readonly IncomingFile[], options: { stateDir?: string } = {}): Promise<ImportResult> {
  const realRoot = await realpath(root);
  const stateDir = path.resolve(options.stateDir ?? path.join(root, STATE_DIR_NAME));
  const state: StateLocation = { name: STATE_DIR_NAME, realPath: await realpath(stateDir).catch(() => stateDir) };
  const imported: string[] = [];
  const rejected: FileFailure[] = [];
  for (const file of files) {
    const shown = showPath(`${file.className}/${file.fileName}`);
    const problem = checkContent(file);
    if (problem) {
      rejected.push({ path: shown, reason: problem });
      continue;
    }
    try {
      const outcome = await importOne(realRoot, state, file);
      if (outcome.ok) imported.push(`${file.className}/${outcome.name}`);
      else rejected.push({ path: shown, reason: outcome.reason });
    } catch (error) {
      rejected.push({ path: shown, reason: fsWriteErrorReason(error) });
    }
  }
  return { imported, rejected };
}

/** Why a dropped file is refused before anything touches the disk; null when it may go in. */
function checkContent(file: IncomingFile): string | null {
  const nameProblem = unusableNameReason(file.className) ?? unusableNameReason(file.fileName);
  if (nameProblem) return nameProblem;
  if (file.bytes.length === 0) return 'empty file';
  if (file.bytes.length > MAX_IMAGE_BYTES) return `file too large (over ${MAX_IMAGE_BYTES / 1024 / 1024} MB)`;
  const sniffed = sniffFormat(file.bytes);
  if (sniffed.kind !== 'raster') return sniffed.kind === 'refused' ? `${sniffed.format} files are not supported (photos only)` : 'not an image';
  return null;
}

async function importOne(realRoot: string, state: StateLocation, file: IncomingFile): Promise<{ ok: true; name: string } | { ok: false; reason: string }> {
  const classDir = path.join(realRoot, file.className);
  if (state.realPath !== undefined && isInside(state.realPath, classDir)) return { ok: false, reason: "that is Keizoku's state folder" };
  try {
    await mkdir(classDir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Something other than a folder holds the name: a file, or a link whose target is missing.
    const existing = await lstat(classDir);
    if (!existing.isSymbolicLink()) return { ok: false, reason: `a file named "${showPath(file.className)}" is in the way of the class folder` };
  }
  // The class folder may be a link; what is written must still land in an ordinary class folder.
  const realClassDir = await realpath(classDir);
  const refused = realClassDir === realRoot ? 'class folder links back to the project folder' : linkTargetReason(realRoot, realClassDir, true, state);
  if (refused) return { ok: false, reason: refused === 'link points outside the project folder' ? 'class folder points outside the project folder' : refused };
  const temporary = path.join(realClassDir, `.keizoku-import-${randomBytes(6).toString('hex')}`);
  await writeFile(temporary, file.bytes, { flag: 'wx' });
  try {
    const name = await linkUnderFreeName(temporary, realClassDir, file.fileName);
    return name === null ? { ok: false, reason: 'no free name left for this file in the class folder' } : { ok: true, name };
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
