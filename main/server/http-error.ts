/** An answer the server gives on purpose: its HTTP status, a stable code for clients, and why. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** extra response headers, e.g. Retry-After on `busy` */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Seconds a client told `busy` should wait: about the time one large upload takes to land and be handled. */
export const BUSY_RETRY_AFTER_S = 1;

export function busyError(status: 429 | 503, message: string): HttpError {
  return new HttpError(status, 'busy', message, { 'retry-after': String(BUSY_RETRY_AFTER_S) });
}
