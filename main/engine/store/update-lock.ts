import Database from 'better-sqlite3';
import path from 'node:path';

export const UPDATE_LOCK_FILE = 'update.lock';

/**
 * The lock that makes one update (or rollback) at a time per project: an EXCLUSIVE SQLite
 * transaction on its own small file, held for the whole run. SQLite takes it as an OS file
 * lock (fcntl on POSIX, LockFileEx on Windows), which the kernel drops the moment the holder
 * dies however it dies — SIGKILL, OOM, power cut — so a dead holder can never block the
 * project, whatever its PID was (PID 1 in a container, a PID reused after a reboot). SQLite
 * also arbitrates between connections of one process, so the app's own threads contend
 * correctly. The project database itself is not used: holding its write lock for a whole
 * update would stall the watcher's writes.
 */
export class UpdateLock {
  private constructor(private db: Database.Database | undefined) {}

  /**
   * Takes the lock, or returns null when a live process still holds it after `waitMs`. Opening a
   * project takes the lock for a moment to tidy the journal (UpdateJournal.recoverInterrupted),
   * so whoever means to update waits a little rather than mistake that for an update.
   */
  static tryAcquire(stateDir: string, waitMs = 0): UpdateLock | null {
    const db = new Database(path.join(stateDir, UPDATE_LOCK_FILE), { timeout: waitMs });
    try {
      db.pragma('journal_mode = DELETE'); // a WAL file would let EXCLUSIVE coexist with readers
      db.exec('BEGIN EXCLUSIVE');
      return new UpdateLock(db);
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return null;
      throw error;
    }
  }

  release(): void {
    const db = this.db;
    this.db = undefined;
    if (!db) return;
    try {
      db.exec('ROLLBACK');
    } finally {
      db.close();
    }
  }
}
