import { MAX_REQUEST_BYTES } from '../engine/api/app-api.js';

/**
 * Bytes of request bodies the server holds at once, across all requests: 1.2 × the largest
 * single request. One maximal call (120 MB) fits with room for the small calls the UI makes
 * beside it, two never do. A body's bytes stay alive as buffer, string, parsed object and the
 * copy posted to the engine worker until its call is answered, so holding ~3-4× this budget is
 * the server's worst case (about 0.5 GB), instead of unbounded. The app's own import batches
 * are ~35 MB at most (24 MB of files, base64), so four of them fit at once.
 */
export const BODY_BUDGET_BYTES = Math.round(1.2 * MAX_REQUEST_BYTES);

/** What one request holds; released exactly once, however the request ends. */
export interface Reservation {
  /** Takes `more` bytes too; false (and nothing taken) when the budget has no room. */
  grow(more: number): boolean;
  release(): void;
}

export class BodyBudget {
  private held = 0;

  constructor(readonly limit: number = BODY_BUDGET_BYTES) {}

  /** Reserves `bytes` up front (a declared Content-Length); null when they do not fit now. */
  reserve(bytes: number): Reservation | null {
    if (!this.take(bytes)) return null;
    let mine = bytes;
    let released = false;
    return {
      grow: (more) => {
        if (released || !this.take(more)) return false;
        mine += more;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.held -= mine;
      },
    };
  }

  private take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }
}
