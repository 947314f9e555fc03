import type { Db } from './database.js';
import { hasTable } from './table-exists.js';

/** The local-only learner state of a version merged from a fleet, and what it includes. */
export interface FleetVersionRecord {
  localState: Uint8Array;
  sources: unknown;
}

/** Rows of fleet_versions (schema 6). A database opened read-only at an older schema has no such table: read as no rows. */
export class FleetVersionStore {
  private readonly present: boolean;

  constructor(private readonly db: Db) {
    this.present = hasTable(db, 'fleet_versions');
  }

  get(versionId: number): FleetVersionRecord | undefined {
    if (!this.present) return undefined;
    const row = this.db.prepare('SELECT local_state, sources FROM fleet_versions WHERE version_id = ?').get(versionId) as { local_state: Buffer; sources: string } | undefined;
    return row ? { localState: new Uint8Array(row.local_state), sources: JSON.parse(row.sources) } : undefined;
  }

  insert(versionId: number, record: FleetVersionRecord): void {
    this.db.prepare('INSERT INTO fleet_versions (version_id, local_state, sources) VALUES (?, ?, ?)').run(versionId, record.localState, JSON.stringify(record.sources));
  }
}
