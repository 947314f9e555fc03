import Database from 'better-sqlite3';
import { accessSync, constants as fsConstants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrations, OLDEST_READABLE_SCHEMA } from './migrations/index.js';
import { classifyStoreFailure, StoreStateError, StoreVersionError } from './store-errors.js';

export type Db = Database.Database;

/** 'read': commands that only look (predict, eval, versions, export) — they work on read-only media and change nothing. */
export type StoreAccess = 'read' | 'write';

export interface OpenedDatabase {
  db: Db;
  /** whether this connection may write (false for 'read', and for a project that has no database yet) */
  writable: boolean;
  /** closes the connection and removes a read-only snapshot, if one was taken */
  close(): void;
}

/**
 * Opens the project database. 'write' creates it if needed, with WAL and foreign keys, and
 * brings its schema up to date; each migration runs in its own transaction with
 * user_version, so a crash mid-migration leaves the previous schema. The schema version is
 * checked before anything is changed: a newer Keizoku's database is refused untouched.
 * 'read' never writes: a missing database reads as an empty project.
 */
export function openDatabase(file: string, access: StoreAccess = 'write'): OpenedDatabase {
  const where = path.dirname(file);
  try {
    return access === 'write' ? openForWriting(file) : openForReading(file);
  } catch (error) {
    if (error instanceof StoreStateError) throw error;
    throw classifyStoreFailure(error, where) ?? error;
  }
}

function openForWriting(file: string): OpenedDatabase {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  // SQLite would quietly open a write-protected file read-only and fail later; say so up front.
  accessSync(dir, fsConstants.W_OK);
  if (existsSync(file)) accessSync(file, fsConstants.R_OK | fsConstants.W_OK);
  const db = new Database(file);
  try {
    refuseNewerSchema(db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable at checkpoints, never corrupt
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, writable: true, close: () => db.close() };
}

function openForReading(file: string): OpenedDatabase {
  if (!existsSync(file)) return emptyProject();
  let snapshotDir: string | undefined;
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    // A WAL database on read-only media cannot be opened in place (SQLite needs its -shm
    // file). Read a private copy instead: SQLite replays the copied WAL there, so the copy
    // shows exactly what a writer would.
    if ((error as { code?: string }).code !== 'SQLITE_CANTOPEN' || canWrite(path.dirname(file))) throw error;
    snapshotDir = mkdtempSync(path.join(os.tmpdir(), 'keizoku-readonly-'));
    const copy = path.join(snapshotDir, path.basename(file));
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0) copyFileSync(`${file}-wal`, `${copy}-wal`);
    db = new Database(copy);
  }
  const close = () => {
    db.close();
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  };
  try {
    refuseNewerSchema(db);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0) {
      close();
      return emptyProject(); // created but never set up: nothing learned yet
    }
    if (version < OLDEST_READABLE_SCHEMA) {
      throw new StoreStateError(
        `the project database has schema version ${version}, older than this Keizoku's (${migrations.length}); run 'keizoku update' once to upgrade it`,
        'too-old',
      );
    }
    db.pragma('query_only = ON');
  } catch (error) {
    close();
    throw error;
  }
  return { db, writable: false, close };
}

/** An in-memory database with the current schema: how a project without state reads. */
function emptyProject(): OpenedDatabase {
  const db = new Database(':memory:');
  migrate(db);
  db.pragma('query_only = ON');
  return { db, writable: false, close: () => db.close() };
}

function refuseNewerSchema(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new StoreVersionError(
      `project database has schema version ${current}, newer than this Keizoku understands (${migrations.length}); update Keizoku`,
    );
  }
}

function canWrite(dir: string): boolean {
  try {
    accessSync(dir, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current + 1; version <= migrations.length; version++) {
    const sql = migrations[version - 1]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
