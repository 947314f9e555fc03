// Problems with the project's state itself (its folder, its database file), as opposed to a
// bug: each gets the stable code `state` and a message that says what to do.

export type StoreProblem = 'read-only' | 'damaged' | 'disk-full' | 'io' | 'too-new' | 'too-old';

/** The project's state cannot be used as asked: read-only, damaged, too new, or the disk is full. */
export class StoreStateError extends Error {
  constructor(
    message: string,
    readonly problem: StoreProblem,
  ) {
    super(message);
  }
}

/** A database written by a newer Keizoku; refused before anything in it is changed. */
export class StoreVersionError extends StoreStateError {
  constructor(message: string) {
    super(message, 'too-new');
  }
}

const READ_ONLY_CODES = new Set(['EROFS', 'EACCES', 'EPERM', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM']);

/** What a SQLite or file-system error says about the state, or null when it says nothing about it. */
export function classifyStoreFailure(error: unknown, where: string): StoreStateError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT_')) {
    return new StoreStateError(
      `the project database (${where}) is damaged (${detail}): restore it from a backup, or move it aside to start over (embeddings are then computed again from the photos)`,
      'damaged',
    );
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return new StoreStateError(`the disk is full (${detail}); nothing was changed: free some space and try again`, 'disk-full');
  }
  if (READ_ONLY_CODES.has(code) || code.startsWith('SQLITE_READONLY_')) {
    return new StoreStateError(
      `cannot write to ${where} (${detail}): this command changes the project, which needs a writable state folder; predict, eval, versions and export still work on a read-only project`,
      'read-only',
    );
  }
  if (code.startsWith('SQLITE_IOERR')) return new StoreStateError(`cannot read or write the project database in ${where} (${detail})`, 'io');
  return null;
}
