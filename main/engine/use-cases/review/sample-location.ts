import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../../dataset/link-target.js';
import { OutsideProjectError, resolveSampleFile } from '../../project/project-paths.js';
import { UsageError, type Project } from '../../project/project.js';
import type { SampleRow } from '../../store/samples.js';
import { StoreStateError } from '../../store/store-errors.js';
import { unusableNameReason } from '../import-files.js';

/**
 * A sample the user names by its project-relative path, checked before anything moves: inside
 * the project (no absolute path, no `..`, not hidden, not the state folder), reached without any
 * link (a link is not ours to move, nor a file behind a linked folder), a regular file, and known
 * to the samples table.
 */
export async function locateSample(project: Project, relPath: string): Promise<{ absPath: string; row: SampleRow }> {
  const real = resolveSampleFile(project.root, relPath, project.stateDir);
  const lexical = path.join(await realpath(project.root), ...relPath.split('/'));
  if (real !== lexical) throw new OutsideProjectError(`links are not moved or excluded, only ordinary files: ${relPath}`);
  const stats = await lstat(lexical);
  if (!stats.isFile()) throw new OutsideProjectError(`not a regular file: ${relPath}`);
  const row = project.store.samples.get(relPath);
  if (!row) throw new UsageError(`not a sample Keizoku has seen yet: ${relPath} (wait for the folder watcher, or run update)`);
  return { absPath: lexical, row };
}

/** An existing class folder directly in the project folder, not a link, not hidden, not the state folder. */
export async function locateClassFolder(project: Project, className: string): Promise<string> {
  const nameProblem = unusableNameReason(className);
  if (nameProblem) throw new UsageError(`not a class folder name: "${className}" (${nameProblem})`);
  const dir = path.join(await realpath(project.root), className);
  const stats = await lstat(dir).catch(() => undefined);
  if (!stats) throw new UsageError(`no class folder named "${className}" in the project`);
  if (stats.isSymbolicLink()) throw new UsageError(`the class folder "${className}" is a link; move files into it with a file manager`);
  if (!stats.isDirectory()) throw new UsageError(`"${className}" is a file, not a class folder`);
  const state = await realpath(project.stateDir).catch(() => path.resolve(project.stateDir));
  if (isInside(dir, state) || isInside(state, dir)) throw new UsageError(`"${className}" holds Keizoku's state folder, not samples`);
  return dir;
}

/**
 * The folder `relDir` (a class folder or one below it) as a real path reached without links,
 * created when it is gone (an undo into a sub-folder deleted meanwhile).
 */
export async function folderWithoutLinks(project: Project, relDir: string): Promise<string> {
  const [className, ...rest] = relDir.split('/');
  let dir = await locateClassFolder(project, className!);
  for (const part of rest) {
    const nameProblem = unusableNameReason(part);
    if (nameProblem) throw new UsageError(`not a folder name: "${part}" (${nameProblem})`);
    dir = path.join(dir, part);
    const stats = await lstat(dir).catch(() => undefined);
    if (!stats) await mkdir(dir);
    else if (!stats.isDirectory() || stats.isSymbolicLink()) {
      throw new UsageError(`"${relDir}" is no longer an ordinary folder`);
    }
  }
  return dir;
}

/** Review's file actions change the project's state: refused where its state folder is read-only. */
export function refuseReadOnly(project: Project, what: string): void {
  if (!project.store.writable) throw new StoreStateError(`this project's state folder is read-only, so Keizoku cannot ${what}`, 'read-only');
}
