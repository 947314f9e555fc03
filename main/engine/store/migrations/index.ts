import { migration001 } from './001-initial.js';
import { migration002 } from './002-embedding-encoding.js';

/** Ordered schema migrations; index + 1 is the schema version (PRAGMA user_version). */
export const migrations: readonly string[] = [migration001, migration002];
