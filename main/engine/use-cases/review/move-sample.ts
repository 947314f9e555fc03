import { unlink } from 'node:fs/promises';
import path from 'node:path';
import type { MoveResult, SampleMove } from '../../api/contract.js';
import { linkUnderFreeName, placeExclusively } from '../../files/place-exclusively.js';
import { UsageError, type Project } from '../../project/project.js';
import type { MoveRecord } from '../../store/moves.js';
import { folderWithoutLinks, locateClassFolder, locateSample, refuseReadOnly } from './sample-location.js';

/**
 * Moves a sample into another class folder of the project, as the user would in a file manager,
 * but safely: the file is hard-linked under a free name there (never replacing a file; " (2)"…
 * when the name is taken) and only then unlinked here; the samples row follows the file in the
 * same step (same content hash, so the cached embedding is reused, nothing is embedded again),
 * and the move is journaled so undoMove can put it back. The folder watcher sees an unlink and an
 * add of the same content: a relabel, served from the cache.
 */
export async function moveSample(project: Project, relPath: string, toClass: string): Promise<MoveResult> {
  refuseReadOnly(project, 'move files');
  const targetDir = await locateClassFolder(project, toClass);
  const { absPath, row } = await locateSample(project, relPath);
  if (row.className === toClass) throw new UsageError(`${relPath} is already in the class "${toClass}"`);
  const name = await linkUnderFreeName(absPath, targetDir, path.basename(absPath));
  if (name === null) throw new UsageError(`no free name left for ${path.basename(absPath)} in "${toClass}"`);
  const toPath = `${toClass}/${name}`;
  const id = await settle(project, absPath, path.join(targetDir, name), () => {
    const { store } = project;
    return store.transaction(() => {
      const moveId = store.moves.record({ fromPath: relPath, toPath, fromSplit: row.split });
      // The name was free on disk, so a row under it is stale (a file deleted while nothing watched).
      store.samples.deleteMany([toPath]);
      store.samples.rename(relPath, toPath, toClass, null);
      store.exclusions.rename(relPath, toPath);
      return moveId;
    });
  });
  return { command: 'move', move: describeMove(project.store.moves.get(id)!) };
}

/**
 * Puts a moved file back where it was (its original name, or a free one beside it if that was
 * taken meanwhile; never replacing a file). If no update has seen the file in its new class yet,
 * the sample is exactly as before the move, split included.
 */
export async function undoMove(project: Project, moveId: number): Promise<MoveResult> {
  refuseReadOnly(project, 'move files');
  const move = project.store.moves.get(moveId);
  if (!move) throw new UsageError(`no move ${moveId} to undo`);
  if (move.undoneAt !== null) throw new UsageError(`move ${moveId} was already undone`);
  const { absPath, row } = await locateSample(project, move.toPath).catch((error: Error) => {
    throw new UsageError(`cannot undo move ${moveId}: ${error.message}`);
  });
  const fromParts = move.fromPath.split('/');
  const fromDir = fromParts.slice(0, -1).join('/');
  const dir = await folderWithoutLinks(project, fromDir);
  const name = await linkUnderFreeName(absPath, dir, fromParts[fromParts.length - 1]!);
  if (name === null) throw new UsageError(`no free name left in "${fromDir}" for ${move.fromPath}`);
  const restoredPath = `${fromDir}/${name}`;
  // An update that ran since the move gave the file a split in its new class: then it is news again.
  const split = row.split === null && restoredPath === move.fromPath ? move.fromSplit : null;
  await settle(project, absPath, path.join(dir, name), () => {
    const { store } = project;
    store.transaction(() => {
      store.samples.deleteMany([restoredPath]);
      store.samples.rename(move.toPath, restoredPath, fromParts[0]!, split);
      store.exclusions.rename(move.toPath, restoredPath);
      store.moves.markUndone(moveId, restoredPath);
    });
  });
  return { command: 'undo-move', move: describeMove(project.store.moves.get(moveId)!) };
}

export function describeMove(move: MoveRecord): SampleMove {
  return { id: move.id, from: move.fromPath, to: move.toPath, movedAt: move.movedAt, undoneAt: move.undoneAt, undoneTo: move.undoneTo };
}

/**
 * The file is now at both `from` and `to` (a hard link): drop `from`, then record. If either
 * fails, the file goes back to `from` alone, so disk and database never disagree about a move.
 */
async function settle<T>(project: Project, from: string, to: string, record: () => T): Promise<T> {
  try {
    await unlink(from);
  } catch (error) {
    await unlink(to).catch(() => undefined);
    throw error;
  }
  try {
    return record();
  } catch (error) {
    await placeExclusively(to, from)
      .then(() => unlink(to))
      .catch(() => undefined);
    throw error;
  }
}
