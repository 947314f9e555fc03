import type { Db } from './database.js';

export type UpdateStatus = 'running' | 'committed' | 'failed' | 'interrupted' | 'unchanged';

export class UpdateInProgressError extends Error {}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A journal of update attempts, so an interrupted one is visible and never half-applied. */
export class UpdateJournal {
  constructor(private readonly db: Db) {}

  /** Starts an attempt; refuses while another live process is updating the same project. */
  start(): number {
    return this.db.transaction(() => {
      this.recoverInterrupted();
      const running = this.db.prepare("SELECT pid FROM updates WHERE status = 'running'").get() as { pid: number } | undefined;
      if (running) throw new UpdateInProgressError(`another update of this project is running (process ${running.pid})`);
      const { lastInsertRowid } = this.db
        .prepare("INSERT INTO updates (pid, started_at, status) VALUES (?, ?, 'running')")
        .run(process.pid, new Date().toISOString());
      return Number(lastInsertRowid);
    }).immediate();
  }

  finish(id: number, status: Exclude<UpdateStatus, 'running'>, fields: { versionId?: number | null; device?: string; summary?: unknown; error?: string } = {}): void {
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
  }

  /**
   * Marks attempts left 'running' by a process that died. Only the version commit is
   * transactional state, so nothing else needs repair: the previous head is intact.
   */
  recoverInterrupted(): number {
    const stale = (this.db.prepare("SELECT id, pid FROM updates WHERE status = 'running'").all() as { id: number; pid: number }[]).filter(
      (row) => !isAlive(row.pid),
    );
    const mark = this.db.prepare(
      "UPDATE updates SET status = 'interrupted', finished_at = ?, error = 'the process ended before the update committed' WHERE id = ?",
    );
    for (const row of stale) mark.run(new Date().toISOString(), row.id);
    return stale.length;
  }

  last(limit = 20): Array<{ id: number; status: UpdateStatus; startedAt: string; finishedAt: string | null; versionId: number | null; error: string | null }> {
    return this.db
      .prepare(
        'SELECT id, status, started_at AS startedAt, finished_at AS finishedAt, version_id AS versionId, error FROM updates ORDER BY id DESC LIMIT ?',
      )
      .all(limit) as never;
  }
}
