// Schema v4. Numbered, append-only: never edit a released migration, add the next one.
// No table changes: from v4 on, a version's `metrics` JSON may hold its confusion matrix sparse
// (report.confusion.sparse: [true class, predicted class, count] triples instead of a dense
// C × C `counts`; see store/version-metrics.ts). At 1,000 classes the dense form was 2 MB of JSON
// per version, parsed again on every history listing. Rows written before stay dense and are
// read as they are; the version bump keeps an older Keizoku, which knows only the dense form,
// from reading the new rows.
export const migration004 = `SELECT 1;`;
