import type { Db } from './database.js';
import type { SampleSplit } from './samples.js';
import { hasTable } from './table-exists.js';

export interface MoveRecord {
  id: number;
  fromPath: string;
  toPath: string;
  /** the sample's split before the move, restored by an undo */
  fromSplit: SampleSplit | null;
  movedAt: string;
  undoneAt: string | null;
  /** where the undo put the file back (fromPath unless that name was taken meanwhile) */
  undoneTo: string | null;
}

interface RawMove {
  id: number;
  from_path: string;
  to_path: string;
  from_split: SampleSplit | null;
  moved_at: string;
  undone_at: string | null;
  undone_to: string | null;
}

const fromRaw = (row: RawMove): MoveRecord => ({
  id: row.id,
  fromPath: row.from_path,
  toPath: row.to_path,
  fromSplit: row.from_split,
  movedAt: row.moved_at,
  undoneAt: row.undone_at,
  undoneTo: row.undone_to,
});

/** Every move of a sample between class folders made through Keizoku, so each can be undone. */
export class MoveJournal {
  private readonly present: boolean;

  constructor(private readonly db: Db) {
    this.present = hasTable(db, 'sample_moves');
  }

  record(move: { fromPath: string; toPath: string; fromSplit: SampleSplit | null }): number {
    const result = this.db
      .prepare('INSERT INTO sample_moves (from_path, to_path, from_split, moved_at) VALUES (?, ?, ?, ?)')
      .run(move.fromPath, move.toPath, move.fromSplit, new Date().toISOString());
    return Number(result.lastInsertRowid);
  }

  get(id: number): MoveRecord | undefined {
    if (!this.present) return undefined;
    const row = this.db.prepare('SELECT * FROM sample_moves WHERE id = ?').get(id) as RawMove | undefined;
    return row ? fromRaw(row) : undefined;
  }

  markUndone(id: number, undoneTo: string): void {
    this.db.prepare('UPDATE sample_moves SET undone_at = ?, undone_to = ? WHERE id = ? AND undone_at IS NULL').run(new Date().toISOString(), undoneTo, id);
  }

  /** The latest moves, newest first. */
  recent(limit: number): MoveRecord[] {
    if (!this.present) return [];
    return (this.db.prepare('SELECT * FROM sample_moves ORDER BY id DESC LIMIT ?').all(limit) as RawMove[]).map(fromRaw);
  }
}
