import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/** Serves the built renderer; anything that is not a file below `dir` is index.html or 404. */
export async function serveStatic(dir: string, urlPath: string, response: ServerResponse, headers: Record<string, string>): Promise<void> {
  const realDir = await realpath(dir);
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    decoded = '/';
  }
  const wanted = decoded === '/' || decoded === '' ? '/index.html' : decoded;
  let file = path.join(realDir, path.normalize(wanted));
  try {
    file = await realpath(file);
    if (!file.startsWith(realDir + path.sep) || !(await stat(file)).isFile()) throw new Error('not servable');
  } catch {
    if (path.extname(wanted)) {
      response.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
      return;
    }
    file = path.join(realDir, 'index.html');
  }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  const cache = file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  response.writeHead(200, { ...headers, 'content-type': type, 'cache-control': cache });
  createReadStream(file).pipe(response);
}
