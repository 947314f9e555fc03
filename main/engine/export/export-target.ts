// Where `export` may write, and whether it may replace what is there: Keizoku never
// overwrites a file it did not write (unless told to with --force), and never writes into a
// class folder, where the model would become training data.
import { linkSync, lstatSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { isIgnoredRelPath } from '../dataset/ignore.js';
import { STATE_DIR_NAME, UsageError } from '../project/project.js';

/** The `format` of every labels.json Keizoku writes. */
export const LABELS_FORMAT = 'keizoku-labels/1';
/** The `producerName` of every model Keizoku exports. */
export const EXPORT_PRODUCER = 'keizoku';
/** Larger files are not decoded to see who wrote them (an exported model is tens of MB). */
const MAX_OWNED_CHECK_BYTES = 1024 * 1024 * 1024;

export interface ExportTargets {
  model: string;
  labels: string;
}

/**
 * Checks the files an export is about to write: refuses a folder inside the project (other
 * than Keizoku's state folder) and any existing file Keizoku did not write, unless `force`.
 */
export function checkExportTargets(targets: ExportTargets, project: { root: string; stateDir: string }, force: boolean): void {
  refuseInsideClassFolders(path.dirname(targets.model), project);
  for (const [file, isOurs] of [
    [targets.model, isKeizokuModel],
    [targets.labels, isKeizokuLabels],
  ] as const) {
    let stats;
    try {
      stats = lstatSync(file);
    } catch {
      continue; // nothing there yet
    }
    if (stats.isDirectory()) throw new UsageError(`${file} is a folder; choose another --out`);
    if (force || (stats.isFile() && isOurs(file, stats.size))) continue;
    throw new UsageError(`${file} already exists and was not written by Keizoku: choose another --out, or pass --force to replace it`);
  }
}

/** Writes beside the target, then moves it into place: a new name by link (never replacing what appeared meanwhile), an existing one by rename. */
export function placeFile(file: string, data: Uint8Array | string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, data);
  try {
    if (exists(file)) {
      renameSync(temporary, file);
      return;
    }
    try {
      linkSync(temporary, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new UsageError(`${file} appeared while exporting; nothing was replaced`);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
      renameSync(temporary, file); // a file system without hard links
    }
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // already moved into place
    }
  }
}

function refuseInsideClassFolders(dir: string, project: { root: string; stateDir: string }): void {
  const realRoot = realpathOrSelf(project.root);
  const realDir = realpathOfNearestExisting(dir);
  const relative = path.relative(realRoot, realDir);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return; // outside the project
  const realState = realpathOrSelf(project.stateDir);
  const inState = realDir === realState || realDir.startsWith(realState + path.sep);
  const posix = relative.split(path.sep).join('/');
  if (inState || (posix !== '' && isIgnoredRelPath(posix, STATE_DIR_NAME))) return; // never scanned
  const shown = posix === '' ? 'the project folder itself' : `class folder ${posix.split('/')[0]}/`;
  throw new UsageError(`--out is inside the project (${shown}): every update scans it, so the model would be read as a sample; choose a folder outside the project`);
}

function isKeizokuModel(file: string, size: number): boolean {
  if (size > MAX_OWNED_CHECK_BYTES) return false;
  try {
    return onnxProto.onnx.ModelProto.decode(readFileSync(file)).producerName === EXPORT_PRODUCER;
  } catch {
    return false; // not ONNX at all
  }
}

function isKeizokuLabels(file: string, size: number): boolean {
  if (size > MAX_OWNED_CHECK_BYTES) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown }).format === LABELS_FORMAT;
  } catch {
    return false;
  }
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function realpathOrSelf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** The real path of a folder that may not exist yet: its nearest existing ancestor's, plus the rest. */
function realpathOfNearestExisting(dir: string): string {
  let existing = path.resolve(dir);
  const rest: string[] = [];
  while (!exists(existing) && path.dirname(existing) !== existing) {
    rest.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  return path.join(realpathOrSelf(existing), ...rest);
}
