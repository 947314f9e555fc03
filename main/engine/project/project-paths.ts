import { realpathSync } from 'node:fs';
import path from 'node:path';
import { isIgnoredRelPath } from '../dataset/ignore.js';
import { STATE_DIR_NAME } from './project.js';

export class OutsideProjectError extends Error {}

/**
 * The real path of a file the UI names by its project-relative path, or an error when it is
 * not a sample of this project: absolute paths, `..`, hidden or state files, and links whose
 * target lies outside the project folder are all refused.
 */
export function resolveSampleFile(root: string, relPath: string, stateDir?: string): string {
  if (relPath.includes('\0') || path.isAbsolute(relPath) || relPath.includes('\\')) throw new OutsideProjectError(`not a project path: ${relPath}`);
  const parts = relPath.split('/');
  if (parts.length < 2 || parts.some((part) => part === '' || part === '.' || part === '..') || isIgnoredRelPath(relPath, STATE_DIR_NAME)) {
    throw new OutsideProjectError(`not a sample in a class folder: ${relPath}`);
  }
  const realRoot = realpathSync(root);
  let real: string;
  try {
    real = realpathSync(path.join(root, ...parts));
  } catch {
    throw new OutsideProjectError(`no such file: ${relPath}`);
  }
  if (!real.startsWith(realRoot + path.sep)) throw new OutsideProjectError(`outside the project folder: ${relPath}`);
  // A --state folder inside a class folder is not a sample either (the scan skips it by its real path).
  const realState = stateDir ? realpathOrNull(stateDir) : null;
  if (realState && (real === realState || real.startsWith(realState + path.sep))) throw new OutsideProjectError(`not a sample in a class folder: ${relPath}`);
  return real;
}

function realpathOrNull(file: string): string | null {
  try {
    return realpathSync(file);
  } catch {
    return null;
  }
}
