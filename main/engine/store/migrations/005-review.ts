// Schema v5. Numbered, append-only: never edit a released migration, add the next one.
// The Review screen's two persistent actions. Exclusions: files the user took out of training
// (the next update leaves them out; including one again deletes its row). Moves: every move of
// a sample between class folders, so it can be undone (undone_at set, never deleted); the file's
// split before the move is kept so an undo puts the sample back exactly as the last update left it.
export const migration005 = `
CREATE TABLE excluded_samples (
  rel_path    TEXT PRIMARY KEY,
  excluded_at TEXT NOT NULL
) STRICT;

CREATE TABLE sample_moves (
  id          INTEGER PRIMARY KEY,
  from_path   TEXT NOT NULL,
  to_path     TEXT NOT NULL,
  from_split  TEXT CHECK (from_split IN ('train', 'heldout')),
  moved_at    TEXT NOT NULL,
  undone_at   TEXT,
  undone_to   TEXT
) STRICT;
`;
