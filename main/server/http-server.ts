import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { API, isApiMethod, MAX_REQUEST_BYTES, type EngineEvent } from '../engine/api/app-api.js';
import { exportedFile } from '../engine/export/exported-files.js';
import { EngineCallError, EngineClient } from '../engine/host/engine-client.js';
import { DEFAULT_STATE_DIR_NAME } from '../engine/dataset/types.js';
import type { EngineOptions } from '../engine/host/engine-service.js';
import { AccessPolicy } from './access-policy.js';
import { SECURITY_HEADERS } from './content-security.js';
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

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Headless mode: the renderer and the app API over HTTP on one port, progress and folder
 * changes as Server-Sent Events. The engine runs in a worker thread, so this event loop only
 * moves bytes and stays responsive while an update embeds and trains.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const policy = new AccessPolicy(options.host, options.token);
  const engine = await EngineClient.start(options.engine);
  const listeners = new Set<ServerResponse>();
  const broadcast = (event: EngineEvent) => {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const response of listeners) response.write(frame);
  };
  engine.on('event', broadcast);
  const heartbeat = setInterval(() => {
    for (const response of listeners) response.write(': keep-alive\n\n');
  }, 15_000);

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const code = error instanceof HttpError ? error.code : 'internal';
      if (!response.headersSent) {
        response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code, message: error instanceof Error ? error.message : String(error) } }));
      } else {
        response.destroy();
      }
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/api/')) {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'usage', 'method not allowed');
      await serveStatic(options.rendererDir, url.pathname, response, SECURITY_HEADERS);
      return;
    }
    const denied = policy.check(request, url);
    if (denied) throw new HttpError(denied.status, 'forbidden', denied.reason);

    if (url.pathname === '/api/events' && request.method === 'GET') {
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      response.write(': connected\n\n');
      listeners.add(response);
      request.on('close', () => listeners.delete(response));
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
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'usage', 'send application/json');
    const body = await readBody(request, MAX_REQUEST_BYTES);
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
      clearInterval(heartbeat);
      for (const response of listeners) response.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await engine.close();
    },
  };
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    request.resume();
    throw new HttpError(413, 'usage', `request larger than ${Math.round(limit / 1024 / 1024)} MB`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      request.destroy();
      throw new HttpError(413, 'usage', `request larger than ${Math.round(limit / 1024 / 1024)} MB`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
