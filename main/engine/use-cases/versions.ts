import type { RollbackResult, VersionsResult } from '../api/contract.js';
import { UsageError, type Project } from '../project/project.js';
import { summarizeVersion } from './version-summary.js';

export function listVersions(project: Project): VersionsResult {
  const { store } = project;
  return {
    command: 'versions',
    head: store.versions.headId(),
    versions: store.versions.list().map((version) => summarizeVersion(version, store)),
  };
}

/**
 * Makes an earlier version head again. Nothing is deleted: the next update learns the
 * difference between that version's training set and the folders, and any version can
 * still be rolled forward to. Refused while an update of the project runs, in any process
 * (it would commit on top of the old head and the rollback would be lost).
 */
export function rollback(project: Project, versionId: number): RollbackResult {
  const { store } = project;
  const target = store.versions.get(versionId);
  if (!target) {
    const ids = store.versions.list().map((version) => version.id);
    throw new UsageError(`no version ${versionId}; versions are ${ids.length ? ids.join(', ') : 'none yet'}`);
  }
  const previousHead = store.updates.exclusive('roll back', () =>
    store.transaction(() => {
      const before = store.versions.headId();
      store.versions.setHead(versionId);
      return before;
    }),
  );
  return { command: 'rollback', previousHead, head: summarizeVersion(store.versions.get(versionId)!, store) };
}
