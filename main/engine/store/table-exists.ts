import type { Db } from './database.js';

/** Whether the database has this table (a read-only database may predate it). */
export function hasTable(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}
