import type { ExcludeResult } from '../../api/contract.js';
import { OutsideProjectError } from '../../project/project-paths.js';
import { UsageError, type Project } from '../../project/project.js';
import { locateSample, refuseReadOnly } from './sample-location.js';

/** Takes a sample out of training from the next update on (the file stays where it is). */
export async function excludeSample(project: Project, relPath: string): Promise<ExcludeResult> {
  refuseReadOnly(project, 'exclude files');
  await locateSample(project, relPath);
  project.store.transaction(() => project.store.exclusions.add(relPath));
  return { command: 'exclude', path: relPath, excluded: true };
}

/** Undoes excludeSample: the next update learns the file again. The file need not exist any more. */
export function includeSample(project: Project, relPath: string): ExcludeResult {
  refuseReadOnly(project, 'exclude files');
  if (!project.store.exclusions.has(relPath)) {
    if (relPath.startsWith('/') || relPath.split('/').includes('..')) throw new OutsideProjectError(`not a project path: ${relPath}`);
    throw new UsageError(`${relPath} is not excluded`);
  }
  project.store.transaction(() => project.store.exclusions.remove(relPath));
  return { command: 'include', path: relPath, excluded: false };
}
