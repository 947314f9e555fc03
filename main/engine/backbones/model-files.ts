import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CatalogEntry } from './catalog.js';

export class ChecksumMismatchError extends Error {}
export class ModelUnavailableError extends Error {}

export interface ModelFileSources {
  /** The app's own cache (verified copies). */
  cacheDir: string;
  /** A local mirror folder holding catalog files by their file name (--model-dir, KEIZOKU_MODEL_DIR). */
  mirrorDir?: string | undefined;
  /** Whether a download from the pinned URL may be tried. */
  allowDownload?: boolean;
  onProgress?: (receivedBytes: number, totalBytes: number) => void;
}

export type ModelFileOrigin = 'cache' | 'mirror' | 'download';

export function defaultCacheDir(): string {
  if (process.env.KEIZOKU_CACHE_DIR) return process.env.KEIZOKU_CACHE_DIR;
  const base =
    process.platform === 'win32'
      ? (process.env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'))
      : process.platform === 'darwin'
        ? path.join(os.homedir(), 'Library', 'Caches')
        : (process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'));
  return path.join(base, 'keizoku');
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * Returns the path of a checksum-verified copy of a catalog file: from the cache, else a
 * local mirror, else the pinned URL. A file whose checksum is wrong is never used.
 */
export async function obtainModelFile(entry: CatalogEntry, sources: ModelFileSources): Promise<{ path: string; origin: ModelFileOrigin }> {
  const cached = path.join(sources.cacheDir, 'models', entry.fileName);
  if ((await isFile(cached)) && (await sha256OfFile(cached)) === entry.sha256) return { path: cached, origin: 'cache' };

  await mkdir(path.dirname(cached), { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  try {
    if (sources.mirrorDir) {
      const mirrored = path.join(sources.mirrorDir, entry.fileName);
      if (await isFile(mirrored)) {
        const actual = await sha256OfFile(mirrored);
        if (actual !== entry.sha256) {
          throw new ChecksumMismatchError(
            `${mirrored}: sha256 ${actual} does not match the catalog's ${entry.sha256} for ${entry.id}; refusing to use it`,
          );
        }
        await copyFile(mirrored, partial);
        await rename(partial, cached);
        return { path: cached, origin: 'mirror' };
      }
    }
    if (sources.allowDownload === false) {
      throw new ModelUnavailableError(
        `backbone ${entry.id} (${entry.fileName}) is not in the cache${sources.mirrorDir ? ` or in ${sources.mirrorDir}` : ''}, and downloads are off`,
      );
    }
    await download(entry, partial, sources.onProgress);
    const actual = await sha256OfFile(partial);
    if (actual !== entry.sha256) {
      throw new ChecksumMismatchError(
        `download of ${entry.url}: sha256 ${actual} does not match the catalog's ${entry.sha256}; discarded`,
      );
    }
    await rename(partial, cached);
    return { path: cached, origin: 'download' };
  } finally {
    await rm(partial, { force: true });
  }
}

async function download(entry: CatalogEntry, target: string, onProgress?: (received: number, total: number) => void): Promise<void> {
  let response: Response;
  try {
    response = await fetch(entry.url, { signal: AbortSignal.timeout(10 * 60_000) });
  } catch (error) {
    throw new ModelUnavailableError(
      `cannot download backbone ${entry.id} from ${entry.url} (${(error as Error).cause ?? (error as Error).message}); ` +
        `put ${entry.fileName} in a folder and pass --model-dir (or KEIZOKU_MODEL_DIR)`,
    );
  }
  if (!response.ok || !response.body) {
    throw new ModelUnavailableError(`cannot download backbone ${entry.id}: HTTP ${response.status} from ${entry.url}`);
  }
  const total = Number(response.headers.get('content-length') ?? entry.bytes);
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    received += chunk.byteLength;
    onProgress?.(received, total);
  }
  await writeFile(target, Buffer.concat(chunks));
}
