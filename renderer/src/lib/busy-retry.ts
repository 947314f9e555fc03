// `keizoku serve` answers `busy` (HTTP 503 or 429 with Retry-After) when its request-body budget
// or its event-stream cap is full. It does so before reading the call, so the call had no
// effect and is safe to send again: a few tries with backoff hide a momentary squeeze (two
// tabs importing at once) from the user. DOM-free, so the tests can drive it with Node's fetch.

/** Eight tries wait about half a minute in all: longer than another tab's largest upload takes to land and be handled. */
export const BUSY_TRIES = 8;
const MAX_DELAY_MS = 10_000;

export interface BusyRetryOptions {
  tries?: number;
  /** told before each wait; the tests use it to free the server meanwhile */
  onBusy?: (attempt: number, delayMs: number) => void;
}

/** Milliseconds to wait before try `attempt + 1`: the server's Retry-After, or more as tries pile up. */
export function busyDelayMs(attempt: number, retryAfter: string | null): number {
  const asked = Number(retryAfter);
  const backoff = 250 * 2 ** attempt;
  const base = Math.max(Number.isFinite(asked) && asked > 0 ? asked * 1000 : 0, backoff);
  // A little jitter, so two tabs refused together do not come back together.
  return Math.min(MAX_DELAY_MS, base) * (1 + Math.random() * 0.2);
}

export async function isBusy(response: Response): Promise<boolean> {
  if (response.status !== 503 && response.status !== 429) return false;
  const body = (await response
    .clone()
    .json()
    .catch(() => null)) as { error?: { code?: unknown } } | null;
  return body?.error?.code === 'busy';
}

/** Sends until the answer is not `busy` or the tries run out; returns the last answer. */
export async function fetchRetryingBusy(send: () => Promise<Response>, options: BusyRetryOptions = {}): Promise<Response> {
  const tries = options.tries ?? BUSY_TRIES;
  for (let attempt = 0; ; attempt++) {
    const response = await send();
    if (attempt + 1 >= tries || !(await isBusy(response))) return response;
    const delay = busyDelayMs(attempt, response.headers.get('retry-after'));
    options.onBusy?.(attempt, delay);
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
