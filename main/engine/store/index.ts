import path from 'node:path';
import { openDatabase, type Db, type StoreAccess } from './database.js';
import { EmbeddingStore } from './embeddings.js';
import { ExclusionStore } from './exclusions.js';
import { MoveJournal } from './moves.js';
import { FleetVersionStore } from './fleet-versions.js';
import { SampleStore } from './samples.js';
import { SettingsStore } from './settings.js';
import { UpdateJournal } from './updates.js';
import { VersionStore } from './versions.js';

export const DATABASE_FILE = 'keizoku.db';

/** One project's state: the SQLite database in its state folder and typed views of it. */
export class ProjectStore {
  readonly settings: SettingsStore;
  readonly embeddings: EmbeddingStore;
  readonly samples: SampleStore;
  readonly versions: VersionStore;
  readonly updates: UpdateJournal;
  readonly exclusions: ExclusionStore;
  readonly moves: MoveJournal;
  readonly fleetVersions: FleetVersionStore;

  private constructor(
    readonly db: Db,
    readonly stateDir: string,
    /** false when opened for reading: nothing may be written, not even the embedding cache */
    readonly writable: boolean,
    private readonly closeDatabase: () => void,
  ) {
    this.settings = new SettingsStore(db);
    this.embeddings = new EmbeddingStore(db);
    this.samples = new SampleStore(db);
    this.versions = new VersionStore(db);
    this.updates = new UpdateJournal(db, writable ? stateDir : null);
    this.exclusions = new ExclusionStore(db);
    this.moves = new MoveJournal(db);
    this.fleetVersions = new FleetVersionStore(db);
  }

  static open(stateDir: string, access: StoreAccess = 'write'): ProjectStore {
    const opened = openDatabase(path.join(stateDir, DATABASE_FILE), access);
    const store = new ProjectStore(opened.db, stateDir, opened.writable, opened.close);
    try {
      store.updates.recoverInterrupted();
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  /** Runs fn in one IMMEDIATE transaction: all of it lands, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.updates.releaseLock();
    this.closeDatabase();
  }
}
