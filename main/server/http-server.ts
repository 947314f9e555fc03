import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { API, isApiMethod, MAX_REQUEST_BYTES, type ApiMethod, type EngineEvent } from '../engine/api/app-api.js';
import { exportedFile } from '../engine/export/exported-files.js';
import { EngineCallError, EngineClient } from '../engine/host/engine-client.js';
import { DEFAULT_STATE_DIR_NAME } from '../engine/dataset/types.js';
import type { EngineOptions } from '../engine/host/engine-service.js';
import { AccessPolicy } from './access-policy.js';
import { BodyBudget } from './body-budget.js';
import { SECURITY_HEADERS } from './content-security.js';
import { EventStreams } from './event-streams.js';
import { busyError, HttpError } from './http-error.js';
import { isJsonMediaType } from './media-type.js';
import { readBody, reserveBody } from './request-body.js';
import { serveStatic } from './static-files.js';

export interface ServeOptions {
  engine: EngineOptions;
  host: string;
  port: number;
  token?: string | undefined;
  /** the built renderer (dist/renderer) */
  rendererDir: string;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const STATUS_BY_CODE: Record<string, number> = {
  usage: 400,
  'no-model': 409,
  'update-in-progress': 409,
  cancelled: 409,
  'backbone-unavailable': 503,
  'checksum-mismatch': 503,
  state: 500,
  internal: 500,
};

const EXPORTED_PREFIX = '/api/exported/';

/**
 * Connection-level limits. Headers within 20 s (a client trickling them holds a socket, and
 * loopback or LAN needs milliseconds); a whole request within 2 minutes, so a slow upload
 * cannot hold its body reservation for long (the app's largest batch, ~35 MB, needs only
 * 0.3 MB/s); at most 256 sockets, well under the usual 1024 file descriptors that the
 * engine's files and database share, yet above the event-stream cap so streams over it still
 * get their 429. No idle timeout: a call such as `update` may rightly run for minutes.
 */
const HEADERS_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 120_000;
const MAX_CONNECTIONS = 256;

/**
 * Headless mode: the renderer and the app API over HTTP on one port, progress and folder
 * changes as Server-Sent Events. The engine runs in a worker thread, so this event loop only
 * moves bytes and stays responsive while an update embeds and trains.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const policy = new AccessPolicy(options.host, options.token);
  const engine = await EngineClient.start(options.engine);
  const streams = new EventStreams();
  engine.on('event', (event: EngineEvent) => streams.broadcast(event));
  const budget = new BodyBudget();

  const dispatch = (request: IncomingMessage, response: ServerResponse, awaitingContinue: boolean) => {
    void handle(request, response, awaitingContinue).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) {
        response.destroy();
        return;
      }
      const status = error instanceof HttpError ? error.status : 500;
      const code = error instanceof HttpError ? error.code : 'internal';
      const headers = error instanceof HttpError ? error.headers : {};
      // A client still waiting for 100 Continue sends no body: close rather than wait for one.
      const closing = awaitingContinue ? { connection: 'close' } : {};
      response.writeHead(status, { ...SECURITY_HEADERS, ...headers, ...closing, 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code, message: error instanceof Error ? error.message : String(error) } }));
    });
  };
  const server = createServer((request, response) => dispatch(request, response, false));
  // Expect: 100-continue (curl sends it for large bodies): the go is given only once the body fits the budget.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => dispatch(request, response, true));
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;

  async function handle(request: IncomingMessage, response: ServerResponse, awaitingContinue: boolean): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/api/')) {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'usage', 'method not allowed');
      await serveStatic(options.rendererDir, url.pathname, response, SECURITY_HEADERS);
      return;
    }
    const denied = policy.check(request, url);
    if (denied) throw new HttpError(denied.status, 'forbidden', denied.reason);

    if (url.pathname === '/api/events' && request.method === 'GET') {
      if (!streams.add(response)) throw busyError(429, 'too many open event streams; close a tab or try again shortly');
      return;
    }
    if (url.pathname.startsWith(EXPORTED_PREFIX)) {
      if (request.method !== 'GET') throw new HttpError(405, 'usage', 'downloads are fetched with GET');
      await sendExportedFile(url.pathname.slice(EXPORTED_PREFIX.length), response);
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    if (!isApiMethod(method)) throw new HttpError(404, 'usage', `no API method '${method}'`);
    if (request.method !== 'POST') throw new HttpError(405, 'usage', 'API methods are called with POST');
    // JSON only: a cross-site form cannot send it without a CORS preflight, which we never grant.
    if (!isJsonMediaType(request.headers['content-type'])) throw new HttpError(415, 'usage', 'send application/json');
    // Held until the call is answered: until then the body lives on as string, parsed object and the worker's copy.
    const reservation = await reserveBody(request, response, budget, MAX_REQUEST_BYTES, awaitingContinue);
    try {
      await answerCall(method, await readBody(request, reservation, MAX_REQUEST_BYTES), response);
    } finally {
      reservation.release();
    }
  }

  async function answerCall(method: ApiMethod, body: Buffer, response: ServerResponse): Promise<void> {
    let json: unknown;
    try {
      json = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'usage', 'the request body is not valid JSON');
    }
    const parsed = API[method].request.safeParse(json);
    if (!parsed.success) {
      throw new HttpError(400, 'usage', parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; '));
    }
    try {
      const result = await engine.call(method, parsed.data as never);
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify({ result }));
    } catch (error) {
      if (error instanceof EngineCallError) throw new HttpError(STATUS_BY_CODE[error.error.code] ?? 500, error.error.code, error.error.message);
      throw error;
    }
  }

  /** An exported model or its labels, as a download; nothing else of the state folder is reachable. */
  async function sendExportedFile(downloadPath: string, response: ServerResponse): Promise<void> {
    const stateDir = path.resolve(options.engine.stateDir ?? path.join(options.engine.root, DEFAULT_STATE_DIR_NAME));
    const file = exportedFile(stateDir, downloadPath);
    if (!file) throw new HttpError(404, 'usage', 'no such export');
    const size = await stat(file).then((st) => st.size).catch(() => null);
    if (size === null) throw new HttpError(404, 'usage', 'not exported yet: call exportModel first');
    const name = `keizoku-${downloadPath.replace('/', '-')}`;
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'content-length': size,
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
    });
    await pipeline(createReadStream(file), response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    async close() {
      streams.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await engine.close();
    },
  };
}
