import type { Db } from './database.js';

export type SampleStatus = 'pending' | 'ready' | 'failed';
export type SampleSplit = 'train' | 'heldout';

export interface SampleRow {
  relPath: string;
  className: string;
  contentHash: string | null;
  size: number;
  mtimeMs: number;
  status: SampleStatus;
  reason: string | null;
  split: SampleSplit | null;
}

interface RawSampleRow {
  rel_path: string;
  class_name: string;
  content_hash: string | null;
  size: number;
  mtime_ms: number;
  status: SampleStatus;
  reason: string | null;
  split: SampleSplit | null;
}

function fromRaw(row: RawSampleRow): SampleRow {
  return {
    relPath: row.rel_path,
    className: row.class_name,
    contentHash: row.content_hash,
    size: row.size,
    mtimeMs: row.mtime_ms,
    status: row.status,
    reason: row.reason,
    split: row.split,
  };
}

/** Files under class folders, as last seen, with their embedding status. */
export class SampleStore {
  private readonly upsertOne;
  private readonly deleteOne;
  private readonly splitOne;

  constructor(private readonly db: Db) {
    this.upsertOne = db.prepare(
      `INSERT INTO samples (rel_path, class_name, content_hash, size, mtime_ms, status, reason, split, seen_at)
       VALUES (@relPath, @className, @contentHash, @size, @mtimeMs, @status, @reason, NULL, @seenAt)
       ON CONFLICT (rel_path) DO UPDATE SET class_name = excluded.class_name, content_hash = excluded.content_hash,
         size = excluded.size, mtime_ms = excluded.mtime_ms, status = excluded.status, reason = excluded.reason,
         split = CASE WHEN samples.content_hash IS excluded.content_hash AND samples.class_name = excluded.class_name
                      THEN samples.split ELSE NULL END,
         seen_at = excluded.seen_at`,
    );
    this.deleteOne = db.prepare('DELETE FROM samples WHERE rel_path = ?');
    this.splitOne = db.prepare('UPDATE samples SET split = ? WHERE rel_path = ?');
  }

  all(): SampleRow[] {
    return (this.db.prepare('SELECT * FROM samples ORDER BY rel_path').all() as RawSampleRow[]).map(fromRaw);
  }

  get(relPath: string): SampleRow | undefined {
    const row = this.db.prepare('SELECT * FROM samples WHERE rel_path = ?').get(relPath) as RawSampleRow | undefined;
    return row ? fromRaw(row) : undefined;
  }

  upsertMany(rows: ReadonlyArray<Omit<SampleRow, 'split'>>): void {
    const seenAt = new Date().toISOString();
    this.db.transaction(() => {
      for (const row of rows) this.upsertOne.run({ ...row, seenAt });
    })();
  }

  deleteMany(relPaths: readonly string[]): void {
    this.db.transaction(() => {
      for (const relPath of relPaths) this.deleteOne.run(relPath);
    })();
  }

  /** A file moved on disk: same content (so the same embedding), a new path and class. */
  rename(from: string, to: string, className: string, split: SampleSplit | null): void {
    this.db.prepare('UPDATE samples SET rel_path = ?, class_name = ?, split = ? WHERE rel_path = ?').run(to, className, split, from);
  }

  setSplits(splits: ReadonlyArray<{ relPath: string; split: SampleSplit | null }>): void {
    this.db.transaction(() => {
      for (const { relPath, split } of splits) this.splitOne.run(split, relPath);
    })();
  }
}
