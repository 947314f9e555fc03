// Problems with the project's state itself (its folder, its database file), as opposed to a
// bug: each gets the stable code `state` and a message that says what to do.

/** The project's state cannot be used as asked: read-only, damaged, too new, or the disk is full. */
export class StoreStateError extends Error {}

/** A database written by a newer Keizoku; refused before anything in it is changed. */
export class StoreVersionError extends StoreStateError {}

const READ_ONLY_CODES = new Set(['EROFS', 'EACCES', 'EPERM', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM']);

/** What a SQLite or file-system error says about the state, or null when it says nothing about it. */
export function describeStoreFailure(error: unknown, where: string): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT_')) {
    return `the project database (${where}) is damaged (${detail}): restore it from a backup, or move it aside to start over (embeddings are then computed again from the photos)`;
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return `the disk is full (${detail}); nothing was changed: free some space and try again`;
  }
  if (READ_ONLY_CODES.has(code) || code.startsWith('SQLITE_READONLY_')) {
    return `cannot write to ${where} (${detail}): this command changes the project, which needs a writable state folder; predict, eval, versions and export still work on a read-only project`;
  }
  if (code.startsWith('SQLITE_IOERR')) return `cannot read or write the project database in ${where} (${detail})`;
  return null;
}
