// Optional on-disk cache of the accuracy section's embeddings, for tuning runs: with
// KEIZOKU_BENCH_EMBEDDING_CACHE=1 a split is embedded once and then read back from
// bench-results/ (gitignored), keyed by backbone and the exact file list. Off by default, so a
// normal benchmark run measures the embedding as well.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FeatureExtractor } from '../main/engine/embedding/index.js';
import { embedSplit, type EmbeddedSplit, type PhotoFile } from './datasets.js';
import { RESULTS_DIR } from './paths.js';

export const EMBEDDING_CACHE_ENV = 'KEIZOKU_BENCH_EMBEDDING_CACHE';

export function embeddingCacheEnabled(): boolean {
  return process.env[EMBEDDING_CACHE_ENV] === '1';
}

function cachePath(backboneKey: string, files: readonly PhotoFile[]): string {
  const key = createHash('sha256').update(backboneKey).update('\0').update(files.map((f) => f.relPath).join('\n')).digest('hex');
  return path.join(RESULTS_DIR, `embeddings-${key.slice(0, 16)}.bin`);
}

/** embedSplit, through the cache when it is enabled. A cached split reports wallMs 0. */
export async function embedSplitCached(
  files: readonly PhotoFile[],
  extractor: FeatureExtractor,
  backboneKey: string,
  onProgress?: (done: number, total: number) => void,
): Promise<EmbeddedSplit> {
  if (!embeddingCacheEnabled()) return embedSplit(files, extractor, onProgress);
  const file = cachePath(backboneKey, files);
  if (existsSync(file)) return readSplit(file);
  const split = await embedSplit(files, extractor, onProgress);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeSplit(file, split);
  return split;
}

// Layout: JSON header line {count, dim, failed, labels} then count×dim float32 little-endian.
function writeSplit(file: string, split: EmbeddedSplit): void {
  const header = Buffer.from(JSON.stringify({ count: split.count, dim: split.dim, failed: split.failed, labels: split.labels }) + '\n');
  writeFileSync(file, Buffer.concat([header, Buffer.from(split.features.buffer, split.features.byteOffset, split.features.byteLength)]));
}

function readSplit(file: string): EmbeddedSplit {
  const bytes = readFileSync(file);
  const newline = bytes.indexOf(0x0a);
  const header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as { count: number; dim: number; failed: number; labels: string[] };
  const body = bytes.subarray(newline + 1);
  const features = new Float32Array(header.count * header.dim);
  new Uint8Array(features.buffer).set(body);
  return { features, labels: header.labels, count: header.count, dim: header.dim, failed: header.failed, wallMs: 0 };
}
