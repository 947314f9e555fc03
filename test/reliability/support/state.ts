// Looking at a project's state from outside, as a second process would: read-only SQLite,
// and the running CLI's stderr.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CALTECH_DIR } from '../../support/paths.js';
import type { startCli } from '../../support/project.js';

export const dbFile = (root: string) => path.join(root, '.keizoku', 'keizoku.db');

export interface StateSnapshot {
  integrity: string;
  foreignKeyProblems: number;
  head: number | null;
  versions: Array<{ id: number; parentId: number | null }>;
  running: number;
}

/** Integrity, head and versions of a project's database, read without changing it. */
export function inspectState(root: string): StateSnapshot {
  const db = new Database(dbFile(root), { readonly: true, fileMustExist: true });
  try {
    const head = db.prepare("SELECT value FROM settings WHERE key = 'head_version'").get() as { value: string } | undefined;
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      foreignKeyProblems: (db.pragma('foreign_key_check') as unknown[]).length,
      head: head ? (JSON.parse(head.value) as number) : null,
      versions: db.prepare('SELECT id, parent_id AS parentId FROM model_versions ORDER BY id').all() as StateSnapshot['versions'],
      running: (db.prepare("SELECT count(*) AS n FROM updates WHERE status = 'running'").get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

/** The nth photo (sorted) of a Caltech class. */
export function photo(className: string, nth = 0, split: 'train' | 'test' = 'train'): string {
  const dir = path.join(CALTECH_DIR, split, className);
  return path.join(dir, readdirSync(dir).sort()[nth]!);
}

/** Resolves once the running CLI has printed a line matching `pattern` on stderr (or rejects when it exits first). */
export async function waitForStderr(run: ReturnType<typeof startCli>, pattern: RegExp, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (!pattern.test(run.output().stderr)) {
    if (exited) throw new Error(`the process ended before printing ${pattern}:\n${run.output().stderr}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${run.output().stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const exists = existsSync;
