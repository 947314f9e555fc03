import { constants as fsConstants } from 'node:fs';
import { copyFile, link } from 'node:fs/promises';
import path from 'node:path';

/**
 * Links `source` into `dir` as `fileName`, or, when that name is taken, as "stem (2).ext",
 * "stem (3).ext"…; returns the name used, or null when none was free. Never replaces a file.
 */
export async function linkUnderFreeName(source: string, dir: string, fileName: string): Promise<string | null> {
  const extension = path.extname(fileName);
  const stem = fileName.slice(0, fileName.length - extension.length);
  for (let attempt = 1; attempt < 10_000; attempt++) {
    const candidate = attempt === 1 ? fileName : `${stem} (${attempt})${extension}`;
    try {
      await placeExclusively(source, path.join(dir, candidate));
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return null;
}

/** Links (or, where the filesystem has no hard links, copies) without ever replacing a file. */
export async function placeExclusively(source: string, target: string): Promise<void> {
  try {
    await link(source, target); // fails with EEXIST if taken: no overwrite, no race
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    await copyFile(source, target, fsConstants.COPYFILE_EXCL);
  }
}
