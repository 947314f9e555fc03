import type { Db } from './database.js';
import { hasTable } from './table-exists.js';

/** Files the user excluded from training (Review → Exclude), by project-relative path. */
export class ExclusionStore {
  /** A read-only database from before schema 5 has no such table: nothing is excluded there. */
  private readonly present: boolean;

  constructor(private readonly db: Db) {
    this.present = hasTable(db, 'excluded_samples');
  }

  paths(): Set<string> {
    if (!this.present) return new Set();
    return new Set(this.db.prepare('SELECT rel_path FROM excluded_samples ORDER BY rel_path').pluck().all() as string[]);
  }

  list(): Array<{ relPath: string; excludedAt: string }> {
    if (!this.present) return [];
    return (this.db.prepare('SELECT rel_path, excluded_at FROM excluded_samples ORDER BY excluded_at DESC, rel_path').all() as Array<{ rel_path: string; excluded_at: string }>).map(
      (row) => ({ relPath: row.rel_path, excludedAt: row.excluded_at }),
    );
  }

  has(relPath: string): boolean {
    return this.present && this.db.prepare('SELECT 1 FROM excluded_samples WHERE rel_path = ?').get(relPath) !== undefined;
  }

  /** True when the path was not excluded before. */
  add(relPath: string): boolean {
    return this.db.prepare('INSERT INTO excluded_samples (rel_path, excluded_at) VALUES (?, ?) ON CONFLICT (rel_path) DO NOTHING').run(relPath, new Date().toISOString()).changes > 0;
  }

  /** True when the path was excluded. */
  remove(relPath: string): boolean {
    return this.db.prepare('DELETE FROM excluded_samples WHERE rel_path = ?').run(relPath).changes > 0;
  }

  /** An exclusion follows its file when the file is moved (and back when the move is undone). */
  rename(from: string, to: string): void {
    this.db.prepare('UPDATE excluded_samples SET rel_path = ? WHERE rel_path = ?').run(to, from);
  }
}
