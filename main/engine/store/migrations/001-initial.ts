// Schema v1. Numbered, append-only: never edit a released migration, add the next one.
export const migration001 = `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Embedding cache: one vector per file content and backbone, so an unchanged or moved
-- file is never embedded twice. Kept when a file disappears: it may come back.
CREATE TABLE embeddings (
  content_hash TEXT NOT NULL,
  backbone     TEXT NOT NULL,
  dim          INTEGER NOT NULL,
  vector       BLOB NOT NULL,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (content_hash, backbone)
) STRICT, WITHOUT ROWID;

-- What is on disk now, as last seen: one row per file under a class folder.
CREATE TABLE samples (
  id           INTEGER PRIMARY KEY,
  rel_path     TEXT NOT NULL UNIQUE,
  class_name   TEXT NOT NULL,
  content_hash TEXT,
  size         INTEGER NOT NULL,
  mtime_ms     REAL NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
  reason       TEXT,
  split        TEXT CHECK (split IN ('train', 'heldout')),
  seen_at      TEXT NOT NULL
) STRICT;
CREATE INDEX samples_by_class ON samples (class_name);
CREATE INDEX samples_by_hash ON samples (content_hash);

-- One row per update attempt; 'running' rows left by a crash are marked 'interrupted' on open.
CREATE TABLE updates (
  id          INTEGER PRIMARY KEY,
  pid         INTEGER NOT NULL,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  status      TEXT NOT NULL CHECK (status IN ('running', 'committed', 'failed', 'interrupted', 'unchanged')),
  version_id  INTEGER REFERENCES model_versions (id),
  device      TEXT,
  summary     TEXT,
  error       TEXT
) STRICT;

CREATE TABLE model_versions (
  id            INTEGER PRIMARY KEY,
  parent_id     INTEGER REFERENCES model_versions (id),
  created_at    TEXT NOT NULL,
  learner       TEXT NOT NULL,
  backbone      TEXT NOT NULL,
  feature_dim   INTEGER NOT NULL,
  classes       TEXT NOT NULL,   -- JSON [{name, introducedIn}] in output order
  learner_state BLOB NOT NULL,
  metrics       TEXT NOT NULL,   -- JSON, see api/contract.ts VersionMetrics
  update_id     INTEGER REFERENCES updates (id)
) STRICT;

-- The training set of each version as (content, class): the next update learns the
-- difference, and a rollback resumes from exactly this set.
CREATE TABLE version_members (
  version_id   INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  content_hash TEXT NOT NULL,
  class_name   TEXT NOT NULL,
  PRIMARY KEY (version_id, content_hash, class_name)
) STRICT, WITHOUT ROWID;

-- Exemplars kept per version for replay-based learners (class-balanced selection).
CREATE TABLE replay_buffer (
  version_id   INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  content_hash TEXT NOT NULL,
  class_name   TEXT NOT NULL,
  PRIMARY KEY (version_id, content_hash, class_name)
) STRICT, WITHOUT ROWID;
`;
