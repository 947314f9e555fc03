// Read-only looks into a project's SQLite database, for asserting what the engine stored.
import path from 'node:path';
import Database from 'better-sqlite3';

/** Rows in the project's embedding cache. */
export function cachedEmbeddings(root: string): number {
  const db = new Database(path.join(root, '.keizoku', 'keizoku.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
