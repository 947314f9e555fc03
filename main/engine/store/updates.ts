import type { Db } from './database.js';
import { UpdateLock } from './update-lock.js';

export type UpdateStatus = 'running' | 'committed' | 'failed' | 'interrupted' | 'unchanged';

export class UpdateInProgressError extends Error {}

/** How long an update or rollback waits for the lock: longer than a project open holds it, far shorter than any update. */
const LOCK_WAIT_MS = 1500;

/**
 * A journal of update attempts, so an interrupted one is visible and never half-applied.
 * Who may update is decided by the project's UpdateLock, never by the PIDs recorded here:
 * a 'running' row whose lock is free belongs to a process that died.
 */
export class UpdateJournal {
  private lock: UpdateLock | undefined;

  constructor(
    private readonly db: Db,
    /** the state folder holding the lock file; null for an in-memory or read-only store */
    private readonly lockDir: string | null,
  ) {}

  /** Starts an attempt and holds the project's update lock until finish(); refuses while a live process holds it. */
  start(): number {
    if (this.lock) throw new UpdateInProgressError('an update of this project is already running in this process');
    const lock = this.acquire('update');
    try {
      const id = this.db.transaction(() => {
        this.markInterrupted(); // we hold the lock, so whoever left a row 'running' is dead
        const { lastInsertRowid } = this.db
          .prepare("INSERT INTO updates (pid, started_at, status) VALUES (?, ?, 'running')")
          .run(process.pid, new Date().toISOString());
        return Number(lastInsertRowid);
      }).immediate();
      this.lock = lock;
      return id;
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /**
   * Records how an attempt ended and lets go of the lock. Called inside the commit
   * transaction, a rollback that takes the lock then waits for that transaction (busy
   * timeout), so it still lands after the commit, never inside it.
   */
  finish(id: number, status: Exclude<UpdateStatus, 'running'>, fields: { versionId?: number | null; device?: string; summary?: unknown; error?: string } = {}): void {
    try {
      this.db
        .prepare('UPDATE updates SET finished_at = ?, status = ?, version_id = ?, device = ?, summary = ?, error = ? WHERE id = ?')
        .run(
          new Date().toISOString(),
          status,
          fields.versionId ?? null,
          fields.device ?? null,
          fields.summary === undefined ? null : JSON.stringify(fields.summary),
          fields.error ?? null,
          id,
        );
    } finally {
      this.releaseLock();
    }
  }

  /** Lets go of the update lock once the attempt is over, however it ended; safe to call more than once. */
  releaseLock(): void {
    this.lock?.release();
    this.lock = undefined;
  }

  /**
   * Runs fn while holding the update lock, for changes that must not interleave with an
   * update (rollback): refuses with UpdateInProgressError while an update runs.
   */
  exclusive<T>(what: string, fn: () => T): T {
    if (this.lock) throw new UpdateInProgressError(`an update of this project is running; ${what} when it has finished`);
    const lock = this.acquire(what);
    try {
      return fn();
    } finally {
      lock?.release();
    }
  }

  /** Marks attempts left 'running' by a process that died; does nothing while an update is live. */
  recoverInterrupted(): number {
    if (this.lock || this.lockDir === null) return 0;
    // Most opens find nothing to tidy: only then is the lock worth touching.
    if (!this.db.prepare("SELECT 1 FROM updates WHERE status = 'running' LIMIT 1").get()) return 0;
    const lock = UpdateLock.tryAcquire(this.lockDir);
    if (!lock) return 0;
    try {
      return this.db.transaction(() => this.markInterrupted()).immediate();
    } finally {
      lock.release();
    }
  }

  last(limit = 20): Array<{ id: number; status: UpdateStatus; startedAt: string; finishedAt: string | null; versionId: number | null; error: string | null }> {
    return this.db
      .prepare(
        'SELECT id, status, started_at AS startedAt, finished_at AS finishedAt, version_id AS versionId, error FROM updates ORDER BY id DESC LIMIT ?',
      )
      .all(limit) as never;
  }

  /** The lock, or UpdateInProgressError naming the live holder as the journal recorded it. */
  private acquire(what: string): UpdateLock | undefined {
    if (this.lockDir === null) return undefined;
    const lock = UpdateLock.tryAcquire(this.lockDir, LOCK_WAIT_MS);
    if (lock) return lock;
    const holder = this.db.prepare("SELECT pid, started_at AS startedAt FROM updates WHERE status = 'running' ORDER BY id DESC LIMIT 1").get() as
      | { pid: number; startedAt: string }
      | undefined;
    const who = holder ? ` (process ${holder.pid}, started ${holder.startedAt})` : '';
    throw new UpdateInProgressError(
      what === 'update' ? `another update of this project is running${who}` : `an update of this project is running${who}; ${what} when it has finished`,
    );
  }

  private markInterrupted(): number {
    return this.db
      .prepare("UPDATE updates SET status = 'interrupted', finished_at = ?, error = 'the process ended before the update committed' WHERE status = 'running'")
      .run(new Date().toISOString()).changes;
  }
}
