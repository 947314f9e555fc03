import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { copyFile, link, mkdir, realpath, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileFailure } from './api/contract.js';
import { MAX_IMAGE_BYTES, type ImportResult } from './api/app-api.js';
import { isIgnoredName } from './dataset/ignore.js';
import { sniffFormat } from './images/index.js';
import { STATE_DIR_NAME } from './project.js';

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
  return null;
}

/**
 * Copies dropped images into root/<class>/, creating the class folder when needed. Never
 * overwrites: a name already taken gets " (2)", " (3)"…. Each file is written under a hidden
 * temporary name and then linked into place, so the watcher never sees half a file.
 * Files that are not photos are refused with the reason, the rest still land.
 */
export async function importFiles(root: string, files: readonly IncomingFile[]): Promise<ImportResult> {
  const realRoot = await realpath(root);
  const imported: string[] = [];
  const rejected: FileFailure[] = [];
  for (const file of files) {
    const shown = `${file.className}/${file.fileName}`;
    const nameProblem = unusableNameReason(file.className) ?? unusableNameReason(file.fileName);
    if (nameProblem) {
      rejected.push({ path: shown, reason: nameProblem });
      continue;
    }
    if (file.bytes.length === 0) {
      rejected.push({ path: shown, reason: 'empty file' });
      continue;
    }
    if (file.bytes.length > MAX_IMAGE_BYTES) {
      rejected.push({ path: shown, reason: `file too large (over ${MAX_IMAGE_BYTES / 1024 / 1024} MB)` });
      continue;
    }
    const sniffed = sniffFormat(file.bytes);
    if (sniffed.kind !== 'raster') {
      rejected.push({ path: shown, reason: sniffed.kind === 'refused' ? `${sniffed.format} files are not supported (photos only)` : 'not an image' });
      continue;
    }
    const classDir = path.join(realRoot, file.className);
    await mkdir(classDir, { recursive: true });
    // The class folder may be a link; what is written must still land inside the project.
    const realClassDir = await realpath(classDir);
    if (!realClassDir.startsWith(realRoot + path.sep)) {
      rejected.push({ path: shown, reason: 'class folder points outside the project folder' });
      continue;
    }
    const temporary = path.join(realClassDir, `.keizoku-import-${randomBytes(6).toString('hex')}`);
    await writeFile(temporary, file.bytes, { flag: 'wx' });
    try {
      const finalName = await linkUnderFreeName(temporary, realClassDir, file.fileName);
      imported.push(`${file.className}/${finalName}`);
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  }
  return { imported, rejected };
}

async function linkUnderFreeName(temporary: string, dir: string, fileName: string): Promise<string> {
  const extension = path.extname(fileName);
  const stem = fileName.slice(0, fileName.length - extension.length);
  for (let attempt = 1; attempt < 10_000; attempt++) {
    const candidate = attempt === 1 ? fileName : `${stem} (${attempt})${extension}`;
    try {
      await placeExclusively(temporary, path.join(dir, candidate));
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`no free name for ${fileName}`);
}

/** Links (or, where the filesystem has no hard links, copies) without ever replacing a file. */
async function placeExclusively(source: string, target: string): Promise<void> {
  try {
    await link(source, target); // fails with EEXIST if taken: no overwrite, no race
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    await copyFile(source, target, fsConstants.COPYFILE_EXCL);
  }
}
