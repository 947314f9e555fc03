/**
 * The head version changed while an update was learning (a rollback or an update by a
 * Keizoku that does not take the update lock): committing would silently undo that change,
 * so nothing is committed.
 */
export class HeadMovedError extends Error {}
