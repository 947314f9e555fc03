import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodyBudget, Reservation } from './body-budget.js';
import { busyError, HttpError } from './http-error.js';

// Closing after a 413 spares reading a body we would never keep (the client learns why first).
const tooLarge = (limit: number) => new HttpError(413, 'usage', `request larger than ${Math.round(limit / 1024 / 1024)} MB`, { connection: 'close' });
const busy = () => busyError(503, 'the server is reading other large requests; try again shortly');

/**
 * Reserves a request's body in the shared budget before a byte of it is kept: its declared
 * Content-Length, or nothing yet for a chunked body (counted as it arrives). Throws 413 for
 * a body over `limit` and 503 `busy` when the budget has no room now. `awaitingContinue`: the
 * client sent `Expect: 100-continue` and waits for our go; it gets one only once reserved, so
 * a refused client never uploads at all.
 */
export async function reserveBody(request: IncomingMessage, response: ServerResponse, budget: BodyBudget, limit: number, awaitingContinue: boolean): Promise<Reservation> {
  const declared = declaredLength(request);
  if (declared !== null && declared > limit) throw tooLarge(limit);
  const reservation = budget.reserve(declared ?? 0);
  if (!reservation) {
    if (!awaitingContinue) await discard(request);
    throw busy();
  }
  if (awaitingContinue) response.writeContinue();
  return reservation;
}

/** Reads the body into memory within its reservation (growing it for a chunked body). */
export async function readBody(request: IncomingMessage, reservation: Reservation, limit: number): Promise<Buffer> {
  const declared = declaredLength(request);
  if (declared !== null) {
    // One buffer of the declared size: no list of chunks plus a concatenated copy.
    const body = Buffer.allocUnsafe(declared);
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      if (size + chunk.length > declared) throw new HttpError(400, 'usage', 'the body is longer than its Content-Length');
      chunk.copy(body, size);
      size += chunk.length;
    }
    if (size !== declared) throw new HttpError(400, 'usage', 'the body is shorter than its Content-Length');
    return body;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  // Leaving the loop early must not destroy the request: a `busy` answer still has to reach the client.
  for await (const chunk of request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    if (!reservation.grow(chunk.length)) {
      refused = true;
      break;
    }
    chunks.push(chunk);
  }
  if (refused) {
    chunks.length = 0;
    await discard(request);
    throw busy();
  }
  return Buffer.concat(chunks, size);
}

function declaredLength(request: IncomingMessage): number | null {
  // Node's parser has already refused a malformed Content-Length, and one beside chunked encoding.
  const header = request.headers['content-length'];
  return header === undefined ? null : Number(header);
}

/**
 * Reads the rest of a refused body without keeping it, then lets the caller answer. Answering
 * first does not work: Node stops reading a request once its response has ended, so the
 * client stalls mid-upload and its connection is reset, and a browser may report a network
 * error instead of our retryable `busy`. Slow clients are cut off by the server's requestTimeout.
 */
function discard(request: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (request.readableEnded) return resolve();
    request.on('data', () => undefined);
    request.once('end', resolve);
    request.once('error', reject);
    request.once('close', () => (request.readableEnded ? resolve() : reject(new Error('the client went away'))));
    request.resume();
  });
}
