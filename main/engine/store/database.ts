import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrations } from './migrations/index.js';

export type Db = Database.Database;

export class StoreVersionError extends Error {}

/**
 * Opens (creating if needed) the project database with WAL and foreign keys, and brings
 * its schema up to date. Each migration runs in its own transaction with user_version,
 * so a crash mid-migration leaves the previous schema.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable at checkpoints, never corrupt
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    db.close();
    throw new StoreVersionError(
      `project database has schema version ${current}, newer than this Keizoku understands (${migrations.length}); update Keizoku`,
    );
  }
  for (let version = current + 1; version <= migrations.length; version++) {
    const sql = migrations[version - 1]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
