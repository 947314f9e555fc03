import path from 'node:path';
import { openDatabase, type Db } from './database.js';
import { EmbeddingStore } from './embeddings.js';
import { SampleStore } from './samples.js';
import { SettingsStore } from './settings.js';
import { UpdateJournal } from './updates.js';
import { VersionStore } from './versions.js';

/** One project's state: the SQLite database in its state folder and typed views of it. */
export class ProjectStore {
  readonly settings: SettingsStore;
  readonly embeddings: EmbeddingStore;
  readonly samples: SampleStore;
  readonly versions: VersionStore;
  readonly updates: UpdateJournal;

  private constructor(readonly db: Db, readonly stateDir: string) {
    this.settings = new SettingsStore(db);
    this.embeddings = new EmbeddingStore(db);
    this.samples = new SampleStore(db);
    this.versions = new VersionStore(db);
    this.updates = new UpdateJournal(db);
  }

  static open(stateDir: string): ProjectStore {
    const store = new ProjectStore(openDatabase(path.join(stateDir, 'keizoku.db')), stateDir);
    store.updates.recoverInterrupted();
    return store;
  }

  /** Runs fn in one IMMEDIATE transaction: all of it lands, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.db.close();
  }
}
