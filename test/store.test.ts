import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ProjectStore } from '../main/engine/store/index.js';
import { StoreVersionError } from '../main/engine/store/store-errors.js';
import { migrations } from '../main/engine/store/migrations/index.js';
import { UpdateInProgressError } from '../main/engine/store/updates.js';

const tempStateDir = () => mkdtempSync(path.join(os.tmpdir(), 'keizoku-store-'));

function newVersion(store: ProjectStore, parentId: number | null, classes: string[]) {
  const updateId = store.updates.start();
  return store.transaction(() => {
    const id = store.versions.insert(
      {
        parentId,
        learner: 'ncm',
        backbone: 'test',
        featureDim: 2,
        classes: classes.map((name) => ({ name, introducedIn: 1 })),
        learnerState: new Uint8Array([1, 2, 3]),
        metrics: { note: 'x' },
        updateId,
      },
      classes.map((className, index) => ({ contentHash: `h${index}`, className })),
      [],
    );
    store.updates.finish(updateId, 'committed', { versionId: id });
    return id;
  });
}

describe('project store (real SQLite file)', () => {
  it('creates the schema with WAL and foreign keys, and reopens without re-migrating', () => {
    const dir = tempStateDir();
    const store = ProjectStore.open(dir);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    store.settings.set('project', { learner: 'ncm' });
    store.close();
    const again = ProjectStore.open(dir);
    expect(again.settings.get<{ learner: string }>('project')).toEqual({ learner: 'ncm' });
    again.close();
  });

  it('refuses a database from a newer Keizoku instead of guessing', () => {
    const dir = tempStateDir();
    ProjectStore.open(dir).close();
    const raw = new Database(path.join(dir, 'keizoku.db'));
    raw.pragma(`user_version = ${migrations.length + 1}`);
    raw.close();
    expect(() => ProjectStore.open(dir)).toThrow(StoreVersionError);
  });

  it('stores embeddings by content hash and backbone, bit-exact', () => {
    const store = ProjectStore.open(tempStateDir());
    const vector = new Float32Array([0.1, -2.5, 3e-8, Number.MAX_VALUE]);
    store.embeddings.putMany('b1', [{ contentHash: 'abc', vector }]);
    expect(store.embeddings.get('abc', 'b1')).toEqual(vector);
    expect(store.embeddings.get('abc', 'b2')).toBeUndefined();
    expect(() => store.embeddings.matrix(['abc', 'missing'], 'b1', 4)).toThrow(/missing/);
    store.close();
  });

  it('keeps versions with their training sets, moves head on insert and on rollback', () => {
    const store = ProjectStore.open(tempStateDir());
    const first = newVersion(store, null, ['cat', 'dog']);
    const second = newVersion(store, first, ['cat', 'dog', 'hamster']);
    expect(store.versions.headId()).toBe(second);
    expect(store.versions.members(second)).toHaveLength(3);
    store.versions.setHead(first);
    expect(store.versions.head()?.classes.map((entry) => entry.name)).toEqual(['cat', 'dog']);
    expect(store.versions.learnerState(first)).toEqual(new Uint8Array([1, 2, 3]));
    expect(() => store.versions.setHead(99)).toThrow(/no model version 99/);
    store.close();
  });

  it('a transaction that throws leaves no trace of the version', () => {
    const store = ProjectStore.open(tempStateDir());
    const first = newVersion(store, null, ['cat']);
    const updateId = store.updates.start();
    expect(() =>
      store.transaction(() => {
        store.versions.insert(
          { parentId: first, learner: 'ncm', backbone: 'test', featureDim: 2, classes: [], learnerState: new Uint8Array(1), metrics: {}, updateId },
          [{ contentHash: 'z', className: 'cat' }],
          [],
        );
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.versions.headId()).toBe(first);
    expect(store.versions.list()).toHaveLength(1);
    store.close();
  });

  it('refuses a second concurrent update and recovers one whose process died', () => {
    const dir = tempStateDir();
    const store = ProjectStore.open(dir);
    store.updates.start();
    expect(() => store.updates.start()).toThrow(UpdateInProgressError);
    store.close();

    // A real process that starts an update and dies without finishing it.
    const script = `
      const Database = require('better-sqlite3');
      const db = new Database(${JSON.stringify(path.join(dir, 'keizoku.db'))});
      db.prepare("UPDATE updates SET status = 'committed'").run();
      db.prepare("INSERT INTO updates (pid, started_at, status) VALUES (?, ?, 'running')").run(process.pid, new Date().toISOString());
      process.kill(process.pid, 'SIGKILL');`;
    spawnSync(process.execPath, ['-e', script], { cwd: process.cwd() });
    const reopened = ProjectStore.open(dir);
    const last = reopened.updates.last(1)[0]!;
    expect(last.status).toBe('interrupted');
    expect(() => reopened.updates.start()).not.toThrow();
    reopened.close();
  });
});
