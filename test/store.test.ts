import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ProjectStore } from '../main/engine/store/index.js';
import { StoreVersionError } from '../main/engine/store/store-errors.js';
import { migration001 } from '../main/engine/store/migrations/001-initial.js';
import { migrations } from '../main/engine/store/migrations/index.js';
import { UpdateInProgressError } from '../main/engine/store/updates.js';

const tempStateDir = () => mkdtempSync(path.join(os.tmpdir(), 'keizoku-store-'));

/** A made-up cut activation [C, H, W]: per-channel offsets and spreads, negative values included. */
function activation(channels: number, height: number, width: number, seed: number): Float32Array {
  const values = new Float32Array(channels * height * width);
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let c = 0; c < channels; c++) {
    const offset = (next() - 0.5) * 8;
    const spread = c % 17 === 0 ? 0 : next() * 5; // a few constant channels, as after a ReLU6 that saturates
    for (let i = 0; i < height * width; i++) values[c * height * width + i] = offset + spread * next();
  }
  return values;
}

function newVersion(store: ProjectStore, parentId: number | null, classes: string[], metrics: unknown = { note: 'x' }) {
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
        metrics,
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
  it('stores a confusion matrix as its non-zero cells and gives it back dense; reads a dense one of an older row', () => {
    const store = ProjectStore.open(tempStateDir());
    const classNames = Array.from({ length: 300 }, (_, c) => `class-${c}`);
    const counts = classNames.map((_, truth) => classNames.map((__, predicted) => (predicted === truth ? 3 : predicted === (truth + 1) % 300 && truth % 7 === 0 ? 1 : 0)));
    const metrics = { report: { overall: 0.9, confusion: { classNames, counts } }, trainSamples: 10 };
    const id = newVersion(store, null, ['a'], metrics);
    expect(store.versions.get(id)!.metrics).toEqual(metrics);
    const stored = store.db.prepare('SELECT metrics FROM model_versions WHERE id = ?').pluck().get(id) as string;
    expect(JSON.parse(stored).report.confusion.sparse).toHaveLength(300 + 43);
    expect(stored.length).toBeLessThan(JSON.stringify(metrics).length / 10);
    // A row from before schema 4 holds the dense matrix: read as it is.
    store.db.prepare('UPDATE model_versions SET metrics = ? WHERE id = ?').run(JSON.stringify(metrics), id);
    expect(store.versions.get(id)!.metrics).toEqual(metrics);
    store.close();
  });

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

  it('stores cut activations quantized (9,132 bytes for 160×7×7) and reads them back as float32 within half a step per channel', () => {
    const dir = tempStateDir();
    const store = ProjectStore.open(dir);
    const shape = [160, 7, 7] as const;
    const plane = 7 * 7;
    const items = [1, 2, 3].map((seed) => ({ contentHash: `a${seed}`, vector: activation(...shape, seed) }));
    store.embeddings.putMany('mnv2@cut', items, shape);
    const float = new Float32Array([0.1, -2.5, 3e-8, Number.MAX_VALUE]);
    store.embeddings.putMany('b1', [{ contentHash: 'f', vector: float }]);

    for (const { contentHash, vector } of items) {
      const back = store.embeddings.get(contentHash, 'mnv2@cut')!;
      expect(back).toBeInstanceOf(Float32Array);
      expect(back.length).toBe(vector.length);
      for (let c = 0; c < shape[0]; c++) {
        const channel = vector.subarray(c * plane, (c + 1) * plane);
        const step = (Math.max(...channel) - Math.min(...channel)) / 255;
        for (let i = 0; i < plane; i++) expect(Math.abs(back[c * plane + i]! - channel[i]!)).toBeLessThanOrEqual(step / 2 + 1e-6);
      }
    }
    const matrix = store.embeddings.matrix(['a3', 'a1'], 'mnv2@cut', 7840);
    expect(matrix.subarray(0, 7840)).toEqual(store.embeddings.get('a3', 'mnv2@cut'));
    expect(store.embeddings.get('f', 'b1')).toEqual(float); // float rows: bit-exact, as before

    const rows = store.db.prepare('SELECT content_hash AS hash, encoding, dim, length(vector) AS bytes FROM embeddings ORDER BY content_hash').all();
    expect(rows).toEqual([
      ...items.map(({ contentHash }) => ({ hash: contentHash, encoding: 'activation-u8', dim: 7840, bytes: 9132 })),
      { hash: 'f', encoding: 'float32', dim: 4, bytes: 16 },
    ]);
    expect(Math.max(...rows.map((row) => (row as { bytes: number }).bytes))).toBeLessThanOrEqual(9200);
    expect(() => store.embeddings.putMany('mnv2@cut', [{ contentHash: 'short', vector: new Float32Array(10) }], shape)).toThrow(/160×7×7/);
    store.close();
  });

  it('migrates a schema-1 database: its vectors read as float32 as before, and activations can join them', () => {
    const dir = tempStateDir();
    const raw = new Database(path.join(dir, 'keizoku.db'));
    raw.exec(migration001);
    raw.pragma('user_version = 1');
    const old = new Float32Array([1.5, -2, 3.25]);
    raw.prepare('INSERT INTO embeddings (content_hash, backbone, dim, vector, created_at) VALUES (?, ?, ?, ?, ?)')
      .run('old', 'b1', 3, Buffer.from(old.buffer), new Date().toISOString());
    raw.close();

    // Read-only commands (predict, versions, …) must not migrate, yet still read it as it is.
    const reader = ProjectStore.open(dir, 'read');
    expect(reader.db.pragma('user_version', { simple: true })).toBe(1);
    expect(reader.embeddings.get('old', 'b1')).toEqual(old);
    reader.close();

    const store = ProjectStore.open(dir);
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(store.embeddings.get('old', 'b1')).toEqual(old);
    expect(store.db.prepare("SELECT encoding FROM embeddings WHERE content_hash = 'old'").get()).toEqual({ encoding: 'float32' });
    store.embeddings.putMany('mnv2@cut', [{ contentHash: 'old', vector: activation(4, 2, 2, 9) }], [4, 2, 2]);
    expect(store.embeddings.get('old', 'mnv2@cut')).toHaveLength(16);
    expect(() => store.db.prepare("UPDATE embeddings SET encoding = 'float16'").run()).toThrow(/CHECK/);
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
