import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { compareCodeUnits } from '../../dataset/scan.js';
import type { Project } from '../../project/project.js';
import { unusableNameReason } from '../import-files.js';

/** The class folders a sample can be moved into: ordinary folders directly in the project folder. */
export async function movableClassFolders(project: Project): Promise<string[]> {
  const entries = await readdir(project.root, { withFileTypes: true });
  const state = path.resolve(project.stateDir);
  return entries
    .filter((entry) => entry.isDirectory() && unusableNameReason(entry.name) === null && path.join(project.root, entry.name) !== state)
    .map((entry) => entry.name)
    .sort(compareCodeUnits);
}
