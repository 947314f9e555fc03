import { migration001 } from './001-initial.js';
import { migration002 } from './002-embedding-encoding.js';
import { migration003 } from './003-embeddings-rowid.js';
import { migration004 } from './004-sparse-confusion.js';
import { migration005 } from './005-review.js';
import { migration006 } from './006-fleet.js';

/** Ordered schema migrations; index + 1 is the schema version (PRAGMA user_version). */
export const migrations: readonly string[] = [migration001, migration002, migration003, migration004, migration005, migration006];

/**
 * Read-only commands (which must not migrate) read databases from this schema on: every later
 * migration only adds columns with defaults, and the stores read their absence as the default
 * (002: `embeddings.encoding`, absent means float32), or changes only how rows are stored
 * (003: `embeddings` as a rowid table, same columns; 004: confusion matrices stored sparse, and
 * the dense ones of earlier rows still read), or adds tables that readers treat as empty when
 * absent (005: `excluded_samples`, `sample_moves`; 006: `fleet_versions`, whose absence reads as no
 * fleet data: store/fleet-versions.ts).
 */
export const OLDEST_READABLE_SCHEMA = 1;
