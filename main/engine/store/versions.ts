import type { Db } from './database.js';
import { decodeVersionMetrics, encodeVersionMetrics } from './version-metrics.js';

export interface VersionClass {
  name: string;
  /** The version in which this class was first learned (its lineage survives rollbacks). */
  introducedIn: number;
}

export interface Member {
  contentHash: string;
  className: string;
}

export interface VersionRecord {
  id: number;
  parentId: number | null;
  createdAt: string;
  learner: string;
  backbone: string;
  featureDim: number;
  classes: VersionClass[];
  metrics: unknown;
  updateId: number | null;
}

export interface NewVersion {
  parentId: number | null;
  learner: string;
  backbone: string;
  featureDim: number;
  classes: VersionClass[];
  learnerState: Uint8Array;
  metrics: unknown;
  updateId: number;
}

interface RawVersion {
  id: number;
  parent_id: number | null;
  created_at: string;
  learner: string;
  backbone: string;
  feature_dim: number;
  classes: string;
  metrics: string;
  update_id: number | null;
}

const HEAD_KEY = 'head_version';
const COLUMNS = 'id, parent_id, created_at, learner, backbone, feature_dim, classes, metrics, update_id';

function fromRaw(row: RawVersion): VersionRecord {
  return {
    id: row.id,
    parentId: row.parent_id,
    createdAt: row.created_at,
    learner: row.learner,
    backbone: row.backbone,
    featureDim: row.feature_dim,
    classes: JSON.parse(row.classes) as VersionClass[],
    metrics: decodeVersionMetrics(row.metrics),
    updateId: row.update_id,
  };
}

/** Model versions, their training sets and replay buffers, and which one is current (head). */
export class VersionStore {
  constructor(private readonly db: Db) {}

  headId(): number | null {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(HEAD_KEY) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as number) : null;
  }

  head(): VersionRecord | undefined {
    const id = this.headId();
    return id === null ? undefined : this.get(id);
  }

  get(id: number): VersionRecord | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM model_versions WHERE id = ?`).get(id) as RawVersion | undefined;
    return row ? fromRaw(row) : undefined;
  }

  list(): VersionRecord[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM model_versions ORDER BY id`).all() as RawVersion[]).map(fromRaw);
  }

  /** The id the next insert will get; stable inside the IMMEDIATE transaction that inserts. */
  nextId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS next FROM model_versions').get() as { next: number }).next;
  }

  learnerState(id: number): Uint8Array {
    const row = this.db.prepare('SELECT learner_state FROM model_versions WHERE id = ?').get(id) as { learner_state: Buffer } | undefined;
    if (!row) throw new Error(`no model version ${id}`);
    return new Uint8Array(row.learner_state);
  }

  members(id: number): Member[] {
    return this.db
      .prepare('SELECT content_hash AS contentHash, class_name AS className FROM version_members WHERE version_id = ?')
      .all(id) as Member[];
  }

  replayBuffer(id: number): Member[] {
    return this.db
      .prepare('SELECT content_hash AS contentHash, class_name AS className FROM replay_buffer WHERE version_id = ? ORDER BY class_name, content_hash')
      .all(id) as Member[];
  }

  /** Inserts a version with its training set and buffer and makes it head. Call inside a transaction. */
  insert(version: NewVersion, members: readonly Member[], replay: readonly Member[]): number {
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO model_versions (parent_id, created_at, learner, backbone, feature_dim, classes, learner_state, metrics, update_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        version.parentId,
        new Date().toISOString(),
        version.learner,
        version.backbone,
        version.featureDim,
        JSON.stringify(version.classes),
        Buffer.from(version.learnerState.buffer, version.learnerState.byteOffset, version.learnerState.byteLength),
        encodeVersionMetrics(version.metrics),
        version.updateId,
      );
    const id = Number(lastInsertRowid);
    const addMember = this.db.prepare('INSERT INTO version_members (version_id, content_hash, class_name) VALUES (?, ?, ?)');
    for (const member of members) addMember.run(id, member.contentHash, member.className);
    const addReplay = this.db.prepare('INSERT INTO replay_buffer (version_id, content_hash, class_name) VALUES (?, ?, ?)');
    for (const member of replay) addReplay.run(id, member.contentHash, member.className);
    this.setHead(id);
    return id;
  }

  setHead(id: number): void {
    if (!this.get(id)) throw new Error(`no model version ${id}`);
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(HEAD_KEY, JSON.stringify(id));
  }
}
