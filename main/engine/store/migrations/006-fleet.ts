// Schema v6. Numbered, append-only: never edit a released migration, add the next one.
// Fleet mode (main/engine/fleet): a version merged with other devices' statistics predicts with
// the fleet model (model_versions.learner_state), but the next update must continue from this
// device's own statistics, and the next publish must carry only those (never others' data).
// This table keeps that local-only learner state per merged version, with the list of remote
// messages the version includes (device, message version, sha256 of the payload) as JSON.
// Versions without a row are local-only, as all versions before v5 are.
export const migration006 = `
CREATE TABLE fleet_versions (
  version_id   INTEGER PRIMARY KEY REFERENCES model_versions (id) ON DELETE CASCADE,
  local_state  BLOB NOT NULL,
  sources      TEXT NOT NULL
);
`;
